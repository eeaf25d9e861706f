-- Replace step 2: insert the variants staged with the offer version kept ($offer_variants;
-- already deduplicated per offer).
insert into offer_variants (shop, offer_id, shopify_variant_id)
select $shop, v.offer_id, v.shopify_variant_id
from read_parquet($offer_variants) as v
join _offers_delta as d on d.id = v.offer_id and d._seq = v._seq;
