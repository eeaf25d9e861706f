-- Orders the releasable_orders view holds, oldest first. The release fingerprint covers the
-- fields a release depends on (same expression as ledger_orders_by_id.sql), not the whole raw:
-- a tag or updated_at change must not open a new attempt.
select
    r.id as order_id,
    md5(json_object(
        'state', o.state,
        'financial_status', o.financial_status,
        'fulfillment_status', o.fulfillment_status,
        'cancelled_at', o.cancelled_at,
        'total_outstanding', o.total_outstanding,
        'charged_at', o.charged_at,
        'paid', json_extract_string(o.raw, '$.payments.paid')
    )::varchar) as fingerprint,
    o.created_at
from releasable_orders r
join orders o on o.shop = r.shop and o.id = r.id
where r.shop = $shop
order by r.created_at, r.id;
