-- Shopify variants attached to each offer; replaced per offer on every offers sync.
create table if not exists offer_variants (
    offer_id           varchar not null,
    shopify_variant_id bigint not null,
    primary key (offer_id, shopify_variant_id)
);
