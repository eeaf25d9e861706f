-- Line items of each order, in API order; replaced whenever the order's record changes.
create table if not exists order_line_items (
    order_id           bigint not null,
    line_index         integer not null,        -- position in the API's line_items array
    shopify_variant_id bigint,
    shopify_product_id bigint,
    offer_id           varchar,
    quantity           integer,
    title              varchar,
    sku                varchar,
    price              decimal(18, 2),
    primary key (order_id, line_index)
);
