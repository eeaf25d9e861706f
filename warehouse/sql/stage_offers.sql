-- Type one buffered chunk of offers (_chunk) for its Parquet file; $seq is the file number.
select
    id::varchar as id,
    name::varchar as name,
    internal_name::varchar as internal_name,
    status::varchar as status,
    enabled::boolean as enabled,
    billing_type::varchar as billing_type,
    billing_checkout_charge_type::varchar as billing_checkout_charge_type,
    billing_checkout_charge_percentage::varchar as billing_checkout_charge_percentage,
    billing_checkout_charge_amount::varchar as billing_checkout_charge_amount,
    delivery_type::varchar as delivery_type,
    delivery_at::timestamptz as delivery_at,
    created_at::timestamptz as created_at,
    updated_at::timestamptz as updated_at,
    discarded_at::timestamptz as discarded_at,
    variant_count::integer as variant_count,
    has_variant_list::boolean as has_variant_list,
    raw::varchar as raw,
    $seq::integer as _seq
from _chunk;
