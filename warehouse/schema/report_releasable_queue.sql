-- Dashboard: the queue of fully paid held orders the release sensor may release, oldest first.
-- Grain: one row per order in releasable_orders (same rule), with its age and how long it has
-- been fully paid. age_days: whole days since created_at; days_since_paid: whole days since
-- charged_at (null when STOQ gave no charged_at). Both at query time.
create or replace view report_releasable_queue as
select
    r.id as order_id,
    r.name,
    r.created_at,
    date_diff('second', r.created_at, now()) // 86400 as age_days,
    o.charged_at,
    date_diff('second', o.charged_at, now()) // 86400 as days_since_paid,
    r.total_price,
    o.currency,
    r.customer_id,
    r.offer_ids,
    r.last_synced_at
from releasable_orders r
join orders o on o.id = r.id;
