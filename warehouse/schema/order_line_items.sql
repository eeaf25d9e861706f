-- Line items of each order, in API order; replaced whenever the order's record changes.
create table if not exists order_line_items (
    shop               varchar not null default 'default',
    order_id           bigint not null,
    line_index         integer not null,        -- position in the API's line_items array
    shopify_variant_id bigint,
    shopify_product_id bigint,
    offer_id           varchar,
    quantity           integer,
    title              varchar,
    sku                varchar,
    price              decimal(18, 2),
    primary key (shop, order_id, line_index)
);
