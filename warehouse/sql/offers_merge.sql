-- Update the offers whose raw JSON changed with their latest staged version ($offers,
-- classified in _offers_delta). Unchanged offers: offers_touch; new offers: offers_insert.
merge into offers as t
using (
    select s.*, $shop as shop
    from read_parquet($offers) as s
    join _offers_delta as d on d.id = s.id and d._seq = s._seq
    where d.action = 'update'
) as s
on t.shop = s.shop and t.id = s.id
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
    missing_since = null;
