-- Type one buffered chunk of offer variants (_chunk) for its Parquet file; $seq as its offers.
select
    offer_id::varchar as offer_id,
    shopify_variant_id::bigint as shopify_variant_id,
    $seq::integer as _seq
from _chunk;
