-- Open preorder backlog by offer x state x currency.
-- Open: state not fulfilled / cancelled / refunded, and not missing_from_api.
-- Grain: one row per (shop, offer_id, state, currency); shops never mix (ids may repeat across them). An order counts once under each distinct offer
-- of its line items; an order none of whose line items names an offer falls back to its
-- offer_ids, and with neither it counts under offer_id null. So summing orders,
-- deposit_collected or outstanding across offers counts a multi-offer order once per offer;
-- units is exact (that offer's line quantities).
-- Money is never summed across currencies: currency (the order's, null when STOQ gave none)
-- is part of the grain and stands right before the amounts it qualifies.
-- deposit_collected: deposits of orders past `placed` (placed = no money collected yet, SPEC §3.1).
-- Age buckets: whole days since created_at at query time: 0-7, 8-30, 31-90, over 90.
create or replace view preorder_backlog as
with open_orders as (
    select
        shop,
        id,
        state,
        currency,
        deposit,
        total_outstanding,
        offer_ids,
        date_diff('second', created_at, now()) // 86400 as age_days
    from orders
    where state not in ('fulfilled', 'cancelled', 'refunded') and not missing_from_api
),
items as (
    select shop, order_id, offer_id, sum(coalesce(quantity, 0))::bigint as units
    from order_line_items
    where (shop, order_id) in (select (shop, id) from open_orders)
    group by shop, order_id, offer_id
),
order_offers as (
    select shop, order_id, offer_id, units from items where offer_id is not null
    union all
    select
        o.shop,
        o.id as order_id,
        unnest(
            case when len(list_distinct(coalesce(o.offer_ids, []))) = 0 then [null::varchar]
                 else list_distinct(o.offer_ids) end
        ) as offer_id,
        coalesce((select sum(i.units) from items i where i.shop = o.shop and i.order_id = o.id), 0)::bigint as units
    from open_orders o
    where not exists (
        select 1 from items i
        where i.shop = o.shop and i.order_id = o.id and i.offer_id is not null
    )
)
select
    oo.shop,
    oo.offer_id,
    o.state,
    count(*) as orders,
    sum(oo.units)::bigint as units,
    o.currency,
    coalesce(sum(o.deposit) filter (where o.state <> 'placed'), 0)::decimal(18, 2) as deposit_collected,
    coalesce(sum(o.total_outstanding), 0)::decimal(18, 2) as outstanding,
    count(*) filter (where o.age_days <= 7) as orders_0_7d,
    count(*) filter (where o.age_days between 8 and 30) as orders_8_30d,
    count(*) filter (where o.age_days between 31 and 90) as orders_31_90d,
    count(*) filter (where o.age_days > 90) as orders_over_90d
from order_offers oo
join open_orders o on o.shop = oo.shop and o.id = oo.order_id
group by oo.shop, oo.offer_id, o.state, o.currency;
