-- Dashboard: the open preorder backlog by offer x state x currency, the offer's name first.
-- Grain: one row per (shop, offer_id, state, currency), straight from preorder_backlog (same open rule
-- and the same counting: a multi-offer order counts once under each of its offers; units are
-- exact). Money is never summed across currencies: currency stands right before the amounts.
create or replace view report_backlog_by_offer_state as
select
    b.shop,
    coalesce(f.name, f.internal_name, b.offer_id, '(no offer)') as offer_name,
    b.offer_id,
    b.state,
    b.orders,
    b.units,
    b.currency,
    b.deposit_collected,
    b.outstanding
from preorder_backlog b
left join offers f on f.shop = b.shop and f.id = b.offer_id;
