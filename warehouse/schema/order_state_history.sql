-- One row each time a sync sees a new derived state for an order (the first sighting included).
-- observed_at is the load's synced_at, so a state change is dated to the sync that saw it.
create table if not exists order_state_history (
    order_id    bigint not null,
    state       varchar not null,
    observed_at timestamptz not null,
    primary key (order_id, observed_at)
);
