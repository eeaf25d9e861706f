-- Append the new offers (the latest staged version of each).
insert into offers (
    shop, id, name, internal_name, status, enabled, billing_type, billing_checkout_charge_type,
    billing_checkout_charge_percentage, billing_checkout_charge_amount, delivery_type,
    delivery_at, created_at, updated_at, discarded_at, variant_count, raw, first_seen_at,
    last_synced_at, last_changed_at, missing_since
)
select
    $shop, s.id, s.name, s.internal_name, s.status, s.enabled, s.billing_type,
    s.billing_checkout_charge_type, s.billing_checkout_charge_percentage::decimal(9, 4),
    s.billing_checkout_charge_amount::decimal(18, 2), s.delivery_type, s.delivery_at,
    s.created_at, s.updated_at, s.discarded_at, s.variant_count, s.raw::json, $synced_at,
    $synced_at, $synced_at, null
from read_parquet($offers) as s
join _offers_delta as d on d.id = s.id and d._seq = s._seq
where d.action = 'insert';
