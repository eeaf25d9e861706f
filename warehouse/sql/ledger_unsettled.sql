-- Real rows of one shop an earlier run left open: `unknown` always; `sent` / `planned` once older
-- than $stale_before (younger ones may be in flight in another process). created_at (null when
-- the warehouse lost the order) lets the read-back page a created-at window instead of GETting
-- each; sent_at, bulk and job_id say how long the write may still take effect and what carries it.
select a.key, a.order_id, a.action, a.status, a.forced, a.job_id, o.created_at, a.sent_at, a.bulk
from order_actions a
left join orders o on o.shop = a.shop and o.id = a.order_id
where a.shop = $shop
    and not a.dry_run
    and ($action is null or a.action = $action)
    and (
        a.status = 'unknown'
        or (a.status = 'sent' and a.sent_at < $stale_before)
        or (a.status = 'planned' and a.planned_at < $stale_before)
    )
order by a.planned_at, a.key;
