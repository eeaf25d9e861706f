-- Dashboard: how long open orders have been waiting, in buckets of whole days since created_at.
-- Grain: one row per (shop, state, age_bucket, currency) that has at least one open order; money is
-- never summed across currencies (currency stands right before the amount it qualifies).
-- Open: not fulfilled / cancelled / refunded and still returned by the API (as preorder_backlog).
-- Age: whole days (UTC, at query time) since created_at; buckets 0-7, 8-30, 31-90, over 90 days,
-- as preorder_backlog. bucket_order sorts the buckets; oldest_created_at is the row's oldest.
create or replace view report_held_order_age as
with open_orders as (
    select
        shop,
        id,
        state,
        created_at,
        currency,
        total_outstanding,
        date_diff('second', created_at, now()) // 86400 as age_days
    from orders
    where state not in ('fulfilled', 'cancelled', 'refunded') and not missing_from_api
),
bucketed as (
    select
        *,
        case when age_days <= 7 then 1 when age_days <= 30 then 2 when age_days <= 90 then 3
             else 4 end as bucket_order
    from open_orders
)
select
    shop,
    state,
    bucket_order,
    case bucket_order when 1 then '0-7d' when 2 then '8-30d' when 3 then '31-90d'
         else 'over 90d' end as age_bucket,
    count(*) as orders,
    currency,
    coalesce(sum(total_outstanding), 0)::decimal(18, 2) as outstanding,
    min(created_at) as oldest_created_at,
    max(age_days) as max_age_days
from bucketed
group by shop, state, bucket_order, currency;
