-- Shopify variants attached to each offer; replaced per offer on every offers sync.
create table if not exists offer_variants (
    shop               varchar not null default 'default',
    offer_id           varchar not null,
    shopify_variant_id bigint not null,
    primary key (shop, offer_id, shopify_variant_id)
);
