-- One row per preorder offer (selling plan) ever returned by GET /preorders/offers.
-- Offers the API stops returning are flagged with missing_since, never deleted.
create table if not exists offers (
    shop                               varchar not null default 'default',
    id                                 varchar not null,      -- offer UUID
    name                               varchar,
    internal_name                      varchar,
    status                             varchar,
    enabled                            boolean,
    billing_type                       varchar,
    billing_checkout_charge_type       varchar,               -- deposit: percentage | price
    billing_checkout_charge_percentage decimal(9, 4),
    billing_checkout_charge_amount     decimal(18, 2),
    delivery_type                      varchar,
    delivery_at                        timestamptz,
    created_at                         timestamptz,
    updated_at                         timestamptz,
    discarded_at                       timestamptz,
    variant_count                      integer,
    raw                                json not null,         -- the whole API record
    first_seen_at                      timestamptz not null,
    last_synced_at                     timestamptz not null,
    last_changed_at                    timestamptz not null,  -- last sync that changed raw
    missing_since                      timestamptz,           -- set while the API no longer lists it
    primary key (shop, id)
);
