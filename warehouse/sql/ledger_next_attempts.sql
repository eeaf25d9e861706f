-- One shop's ($shop) candidates (order_id, fingerprint, pos) whose next key is free, with that key's attempt number.
-- Any real row for the same (action, order, fingerprint, forced) blocks the order unless every
-- such row is `failed` (proved not applied) and fewer than $max_attempts were made. Any open row
-- (planned / sent / unknown) for the order and action blocks it whatever its fingerprint or
-- force: its write may still take effect, and a new key must never race it.
-- For a retry: its last failed attempt (when it was sent, its note, its status), and whether any
-- failure was a refusal no retry can change (a 4xx but 408 / 429): the caller applies its backoff.
-- A row an operator settled `failed` ("not applied", settled_by set) is a verdict, not a failed
-- attempt: it takes an attempt number (keys stay unique) but never uses up $max_attempts.
select
    c.order_id,
    c.fingerprint,
    count(a.key)::integer as attempt,
    max(coalesce(a.sent_at, a.planned_at)) as last_failed_at,
    arg_max(a.note, coalesce(a.sent_at, a.planned_at)) as last_note,
    arg_max(a.http_status, coalesce(a.sent_at, a.planned_at)) as last_http_status,
    coalesce(bool_or(a.http_status between 400 and 499 and a.http_status not in (408, 429)), false)
        as refused,
    coalesce(arg_max(a.settled_by is not null, coalesce(a.sent_at, a.planned_at)), false)
        as by_operator
from _ledger_candidates c
left join order_actions a
    on a.shop = $shop
    and a.order_id = c.order_id
    and a.order_fingerprint = c.fingerprint
    and a.action = $action
    and a.forced = $forced
    and not a.dry_run
where not exists (
    select 1
    from order_actions o
    where o.shop = $shop
        and o.order_id = c.order_id
        and o.action = $action
        and not o.dry_run
        and o.status in ('planned', 'sent', 'unknown')
)
group by c.order_id, c.fingerprint, c.pos
having count(a.key) = count(a.key) filter (where a.status = 'failed')
    and count(a.key) filter (where a.settled_by is null) < $max_attempts
order by c.pos;
