-- Replace step 1: drop the variants of every staged offer that carries a variant list.
delete from offer_variants
where shop = $shop
  and offer_id in (select id from _offers_delta where has_variant_list);
