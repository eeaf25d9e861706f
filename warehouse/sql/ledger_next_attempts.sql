-- Candidates (order_id, fingerprint, pos) whose next key is free, with that key's attempt number.
-- Any real row for the same (action, order, fingerprint, forced) blocks the order unless every
-- such row is `failed` (proved not applied) and fewer than $max_attempts were made.
select c.order_id, c.fingerprint, count(a.key)::integer as attempt
from _ledger_candidates c
left join order_actions a
    on a.order_id = c.order_id
    and a.order_fingerprint = c.fingerprint
    and a.action = $action
    and a.forced = $forced
    and not a.dry_run
group by c.order_id, c.fingerprint, c.pos
having count(a.key) = count(a.key) filter (where a.status = 'failed')
    and count(a.key) < $max_attempts
order by c.pos;
