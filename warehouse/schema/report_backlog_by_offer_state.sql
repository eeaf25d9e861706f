-- Dashboard: the open preorder backlog by offer x state, with the offer's name.
-- Grain: one row per (offer_id, state), straight from preorder_backlog (same open rule and the
-- same counting: a multi-offer order counts once under each of its offers; units are exact).
-- Money is summed across currencies as stored; filter on one currency upstream if you mix them.
create or replace view report_backlog_by_offer_state as
select
    b.offer_id,
    coalesce(f.name, f.internal_name, b.offer_id, '(no offer)') as offer_name,
    b.state,
    b.orders,
    b.units,
    b.deposit_collected,
    b.outstanding
from preorder_backlog b
left join offers f on f.id = b.offer_id;
