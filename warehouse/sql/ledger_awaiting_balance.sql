-- Orders with a balance to charge, oldest first, optionally scoped to one offer.
select id as order_id, md5(raw::varchar) as fingerprint, created_at
from orders
where state = 'awaiting_balance'
    and total_outstanding > 0
    and cancelled_at is null
    and coalesce(financial_status, '') not in ('refunded', 'partially_refunded')
    and not missing_from_api
    and ($offer_id is null or list_contains(offer_ids, $offer_id))
order by created_at, id;
