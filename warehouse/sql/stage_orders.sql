-- Type one buffered chunk of orders (_chunk, on the stage's private connection) for its Parquet
-- file; $seq is the file number (a later file wins for an order staged twice). Money stays
-- validated decimal text, cast where it is merged.
select
    id::bigint as id,
    name::varchar as name,
    state::varchar as state,
    created_at::timestamptz as created_at,
    financial_status::varchar as financial_status,
    fulfillment_status::varchar as fulfillment_status,
    cancelled_at::timestamptz as cancelled_at,
    currency::varchar as currency,
    total_price::varchar as total_price,
    deposit::varchar as deposit,
    balance::varchar as balance,
    total_outstanding::varchar as total_outstanding,
    charged_at::timestamptz as charged_at,
    customer_id::bigint as customer_id,
    customer_email::varchar as customer_email,
    customer_name::varchar as customer_name,
    tags::varchar[] as tags,
    offer_ids::varchar[] as offer_ids,
    raw::varchar as raw,
    $seq::integer as _seq
from _chunk;
