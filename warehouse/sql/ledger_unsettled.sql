-- Real rows an earlier run left open: `unknown` always; `sent` / `planned` once older than
-- $stale_before (younger ones may be in flight in another process).
select key, order_id, action, status, forced, job_id
from order_actions
where not dry_run
    and ($action is null or action = $action)
    and (
        status = 'unknown'
        or (status = 'sent' and sent_at < $stale_before)
        or (status = 'planned' and planned_at < $stale_before)
    )
order by planned_at, key;
