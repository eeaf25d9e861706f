-- Candidates (order_id, fingerprint, pos) whose next key is free, with that key's attempt number.
-- Any real row for the same (action, order, fingerprint, forced) blocks the order unless every
-- such row is `failed` (proved not applied) and fewer than $max_attempts were made. Any open row
-- (planned / sent / unknown) for the order and action blocks it whatever its fingerprint or
-- force: its write may still take effect, and a new key must never race it.
select c.order_id, c.fingerprint, count(a.key)::integer as attempt
from _ledger_candidates c
left join order_actions a
    on a.order_id = c.order_id
    and a.order_fingerprint = c.fingerprint
    and a.action = $action
    and a.forced = $forced
    and not a.dry_run
where not exists (
    select 1
    from order_actions o
    where o.order_id = c.order_id
        and o.action = $action
        and not o.dry_run
        and o.status in ('planned', 'sent', 'unknown')
)
group by c.order_id, c.fingerprint, c.pos
having count(a.key) = count(a.key) filter (where a.status = 'failed')
    and count(a.key) < $max_attempts
order by c.pos;
