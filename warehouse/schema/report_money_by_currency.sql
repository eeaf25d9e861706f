-- Dashboard: the money of the open backlog, one row per currency (never summed across them).
-- Grain: one row per (shop, currency) of an open order (null: orders STOQ gave no currency).
-- Open: as preorder_backlog; each order counts once (not per offer).
-- outstanding_balance: total_outstanding of open orders; deposit_collected: deposits of open
-- orders past `placed`; releasable_*: the releasable_orders view, its orders and their totals.
create or replace view report_money_by_currency as
with open_orders as (
    select shop, currency, state, deposit, total_outstanding
    from orders
    where state not in ('fulfilled', 'cancelled', 'refunded') and not missing_from_api
),
open_money as (
    select
        shop,
        currency,
        count(*) as open_orders,
        count(*) filter (where state = 'awaiting_balance') as awaiting_balance,
        coalesce(sum(total_outstanding), 0)::decimal(18, 2) as outstanding_balance,
        coalesce(sum(deposit) filter (where state <> 'placed'), 0)::decimal(18, 2)
            as deposit_collected
    from open_orders
    group by shop, currency
),
releasable as (
    select
        shop,
        currency,
        count(*) as releasable_orders,
        coalesce(sum(total_price), 0)::decimal(18, 2) as releasable_total
    from releasable_orders
    group by shop, currency
)
select
    m.shop,
    m.currency,
    m.open_orders,
    m.awaiting_balance,
    coalesce(r.releasable_orders, 0) as releasable_orders,
    m.outstanding_balance,
    m.deposit_collected,
    coalesce(r.releasable_total, 0)::decimal(18, 2) as releasable_total
from open_money m
left join releasable r on r.shop = m.shop and r.currency is not distinct from m.currency;
