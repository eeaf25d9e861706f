-- Type one buffered chunk of line items (_chunk) for its Parquet file; $seq as for its orders.
select
    order_id::bigint as order_id,
    line_index::integer as line_index,
    shopify_variant_id::bigint as shopify_variant_id,
    shopify_product_id::bigint as shopify_product_id,
    offer_id::varchar as offer_id,
    quantity::integer as quantity,
    title::varchar as title,
    sku::varchar as sku,
    price::varchar as price,
    $seq::integer as _seq
from _chunk;
