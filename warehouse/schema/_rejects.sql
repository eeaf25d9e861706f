-- Records a sync could not load (an unexpected shape, an id beyond BIGINT or not positive, a
-- number beyond its column, invalid Unicode); kept verbatim. A record holding a lone surrogate is
-- no JSON DuckDB parses: its raw is its JSON text as a JSON string (json_extract_string(raw, '$')).
create table if not exists _rejects (
    reject_id   uuid primary key default uuid(),
    shop        varchar not null default 'default',
    run_id      varchar not null,
    stream      varchar not null,
    record_key  varchar,                        -- null when the key itself was unusable
    reason      varchar not null,
    raw         json not null,
    rejected_at timestamptz not null
);
