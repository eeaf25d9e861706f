-- Held orders that are fully paid and may be released automatically (one row per shop and order).
-- Rule: state balance_collected, nothing outstanding, not cancelled, not (partially) refunded,
-- still returned by the API. partially_refunded is excluded on purpose: an automatic release
-- should never ship an order whose money moved backwards; release those by hand.
-- currency: the order's (null when STOQ gave none), right before the amount it qualifies.
create or replace view releasable_orders as
select shop, id, name, created_at, currency, total_price, customer_id, offer_ids, last_synced_at
from orders
where state = 'balance_collected'
  and total_outstanding = 0
  and cancelled_at is null
  and coalesce(financial_status, '') not in ('refunded', 'partially_refunded')
  and not missing_from_api;
