-- Replace step 2: insert the chunk's variants (already deduplicated per offer).
insert into offer_variants (offer_id, shopify_variant_id)
select offer_id, shopify_variant_id from _offer_variants_chunk;
