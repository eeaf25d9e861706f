-- Merge one registered chunk into offers; unchanged records only advance last_synced_at.
merge into offers as t
using _offers_chunk as s
on t.id = s.id
when matched and t.raw::varchar = s.raw then update set
    last_synced_at = $synced_at,
    missing_since = null
when matched then update set
    name = s.name,
    internal_name = s.internal_name,
    status = s.status,
    enabled = s.enabled,
    billing_type = s.billing_type,
    billing_checkout_charge_type = s.billing_checkout_charge_type,
    billing_checkout_charge_percentage = s.billing_checkout_charge_percentage::decimal(9, 4),
    billing_checkout_charge_amount = s.billing_checkout_charge_amount::decimal(18, 2),
    delivery_type = s.delivery_type,
    delivery_at = s.delivery_at,
    created_at = s.created_at,
    updated_at = s.updated_at,
    discarded_at = s.discarded_at,
    variant_count = s.variant_count,
    raw = s.raw::json,
    last_synced_at = $synced_at,
    last_changed_at = $synced_at,
    missing_since = null
when not matched then insert (
    id, name, internal_name, status, enabled, billing_type, billing_checkout_charge_type,
    billing_checkout_charge_percentage, billing_checkout_charge_amount, delivery_type,
    delivery_at, created_at, updated_at, discarded_at, variant_count, raw, first_seen_at,
    last_synced_at, last_changed_at, missing_since
) values (
    s.id, s.name, s.internal_name, s.status, s.enabled, s.billing_type,
    s.billing_checkout_charge_type, s.billing_checkout_charge_percentage::decimal(9, 4),
    s.billing_checkout_charge_amount::decimal(18, 2), s.delivery_type, s.delivery_at,
    s.created_at, s.updated_at, s.discarded_at, s.variant_count, s.raw::json, $synced_at,
    $synced_at, $synced_at, null
);
