-- One row per async STOQ job we submitted (SPEC §4), written before the first poll so a
-- restarted run can find its job by batch_key and re-attach instead of submitting again.
create table if not exists jobs (
    shop            varchar not null default 'default',  -- the shop whose key submitted it
    job_id          varchar not null,
    kind            varchar not null,        -- bulk_release | export | bulk_variants | ...
    batch_key       varchar not null,        -- the caller's deterministic key for this batch
    status_url      varchar not null,        -- exactly as the API returned it
    item_count      integer,                 -- order_count / variant_count (exports: null)
    submitted_at    timestamptz not null,
    last_status     varchar,                 -- running | completed | ready | failed | cancelled | not_found
    last_progress   double,
    last_polled_at  timestamptz,
    finished_at     timestamptz,             -- set once the job can no longer change for us
    error           varchar,                 -- failure text, timeout/stall or 404 reason
    download_url    varchar,                 -- exports: the signed URL (never sent our key)
    dagster_run_id  varchar,                 -- the run that submitted or last re-attached
    raw             json,                    -- the last body seen (submission, then status)
    primary key (shop, job_id)
);
