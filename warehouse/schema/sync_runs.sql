-- One row per (run, stream): what a sync did. Failed runs are written after the rollback.
create table if not exists sync_runs (
    shop           varchar not null default 'default',
    run_id         varchar not null,
    stream         varchar not null,
    mode           varchar not null,            -- full | incremental
    pages          integer,
    requests       integer,
    retries        integer,
    rate_limited   integer,
    rows_inserted  bigint not null default 0,
    rows_updated   bigint not null default 0,
    rows_unchanged bigint not null default 0,
    rows_rejected  bigint not null default 0,
    rows_missing   bigint not null default 0,   -- newly flagged missing by this run
    drift          boolean,                     -- total_count moved during the walk
    started_at     timestamptz not null,
    finished_at    timestamptz not null,
    outcome        varchar not null,            -- succeeded | failed
    message        varchar,
    primary key (shop, run_id, stream)
);
