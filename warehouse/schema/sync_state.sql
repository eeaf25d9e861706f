-- Cursor per shop and stream ('orders', 'offers'); written in the same transaction as the data.
create table if not exists sync_state (
    shop                varchar not null default 'default',
    stream              varchar not null,
    high_water_mark     timestamptz,            -- newest created_at loaded (orders)
    last_full_at        timestamptz,
    last_incremental_at timestamptz,
    last_total_count    bigint,                 -- meta.total_count of the last walk
    last_run_id         varchar,
    updated_at          timestamptz not null,
    primary key (shop, stream)
);
