-- Dashboard: the headline counts of the backlog in one row (KPI cards).
-- Grain: exactly one row, over every shop. Open: as preorder_backlog; each order counts once.
-- No money here: amounts are never summed across currencies, so the money figures live in
-- report_money_by_currency (one row per currency). currencies: how many the open orders use.
create or replace view report_key_figures as
with open_orders as (
    select *
    from orders
    where state not in ('fulfilled', 'cancelled', 'refunded') and not missing_from_api
)
select
    (select count(*) from open_orders) as open_orders,  -- every shop: per shop, see the views
    (select count(*) from open_orders where state = 'placed') as placed,
    (select count(*) from open_orders where state = 'awaiting_balance') as awaiting_balance,
    (select count(*) from open_orders where state = 'balance_collected') as balance_collected,
    (select count(*) from open_orders where state = 'released') as released,
    (select count(*) from releasable_orders) as releasable_orders,
    (select count(distinct coalesce(currency, '')) from open_orders) as currencies,
    (select max(date_diff('second', created_at, now()) // 86400) from open_orders)
        as oldest_open_age_days,
    (select max(last_synced_at) from orders) as last_synced_at;
