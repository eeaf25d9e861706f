-- One row each time a sync sees a new derived state for an order (the first sighting included).
-- observed_at is the load's synced_at, so a state change is dated to the sync that saw it.
create table if not exists order_state_history (
    shop        varchar not null default 'default',
    order_id    bigint not null,
    state       varchar not null,
    observed_at timestamptz not null,
    primary key (shop, order_id, observed_at)
);
