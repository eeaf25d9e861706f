-- Records with a key-less or unexpected shape that a sync could not load; kept verbatim.
create table if not exists _rejects (
    reject_id   uuid primary key default uuid(),
    run_id      varchar not null,
    stream      varchar not null,
    record_key  varchar,                        -- null when the key itself was unusable
    reason      varchar not null,
    raw         json not null,
    rejected_at timestamptz not null
);
