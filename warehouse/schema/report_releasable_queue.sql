-- Dashboard: the queue of fully paid held orders the release sensor may release, oldest first.
-- Grain: one row per order in releasable_orders (same rule), with its age and how long it has
-- been fully paid. age_days: whole days since created_at; days_since_paid: whole days since
-- charged_at (null when STOQ gave no charged_at). Both at query time. offer_names: the names of
-- offer_ids, in the same order (the id when an offer is unknown); currency right before the total.
create or replace view report_releasable_queue as
with offer_names as (
    select
        x.shop,
        x.id,
        list(coalesce(f.name, f.internal_name, x.offer_id) order by x.pos) as offer_names
    from (
        select shop, id, unnest(offer_ids) as offer_id, generate_subscripts(offer_ids, 1) as pos
        from releasable_orders
    ) x
    left join offers f on f.shop = x.shop and f.id = x.offer_id
    group by x.shop, x.id
)
select
    r.shop,
    r.id as order_id,
    r.name,
    r.created_at,
    date_diff('second', r.created_at, now()) // 86400 as age_days,
    o.charged_at,
    date_diff('second', o.charged_at, now()) // 86400 as days_since_paid,
    r.currency,
    r.total_price,
    r.customer_id,
    coalesce(n.offer_names, []) as offer_names,
    r.offer_ids,
    r.last_synced_at
from releasable_orders r
join orders o on o.shop = r.shop and o.id = r.id
left join offer_names n on n.shop = r.shop and n.id = r.id;
