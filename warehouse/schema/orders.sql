-- One row per preorder order (key: the Shopify order id). Money in the order's currency.
-- Orders a full reconcile no longer sees are flagged missing_from_api, never deleted.
create table if not exists orders (
    shop               varchar not null default 'default',  -- the shop (issue 13)
    id                 bigint not null,         -- = shopify_order_id
    name               varchar,
    state              varchar not null,        -- derived state, SPEC §3.1
    created_at         timestamptz not null,
    financial_status   varchar,
    fulfillment_status varchar,
    cancelled_at       timestamptz,
    currency           varchar,
    total_price        decimal(18, 2),
    deposit            decimal(18, 2),
    balance            decimal(18, 2),
    total_outstanding  decimal(18, 2),
    charged_at         timestamptz,
    customer_id        bigint,
    customer_email     varchar,
    customer_name      varchar,
    tags               varchar[],
    offer_ids          varchar[],
    raw                json not null,           -- the whole API record
    first_seen_at      timestamptz not null,
    last_synced_at     timestamptz not null,    -- last sync that saw it (changed or not)
    last_changed_at    timestamptz not null,    -- last sync that changed raw
    missing_from_api   boolean not null default false,
    missing_since      timestamptz,
    primary key (shop, id)
);
