-- Orders with a balance to charge, oldest first, optionally scoped to one offer. The charge
-- fingerprint covers payment fields only (same expression as ledger_orders_by_id.sql): an
-- unrelated change (tags, updated_at) must never make an earlier charge look like history.
select
    id as order_id,
    md5(json_object(
        'financial_status', financial_status,
        'total_outstanding', total_outstanding,
        'charged_at', charged_at,
        'paid', json_extract_string(raw, '$.payments.paid')
    )::varchar) as fingerprint,
    created_at
from orders
where shop = $shop
    and state = 'awaiting_balance'
    and total_outstanding > 0
    and cancelled_at is null
    and coalesce(financial_status, '') not in ('refunded', 'partially_refunded')
    and not missing_from_api
    and ($offer_id is null or list_contains(offer_ids, $offer_id))
order by created_at, id;
