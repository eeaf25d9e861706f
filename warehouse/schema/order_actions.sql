-- The exactly-once ledger: one row per write the connector planned or sent against an order.
-- key = sha256(action, order_id, order_fingerprint, forced, attempt); a key is posted at most once.
-- The fingerprint covers only the fields the action depends on (release: state, fulfillment,
-- payments; charge: payment fields), so an unrelated change never opens a new attempt, and an
-- open row blocks every new key for its order and action.
-- A row is committed as `planned` before anything is read or sent, and as `sent` right before the
-- POST; it settles as succeeded | rejected (409) | failed | unknown | skipped. Dry-run rows have a
-- random key, stay `planned` and never block a real run. An operator may settle an open row by
-- hand (`preorders actions settle`): settled_by and settle_reason record who and why; the runs'
-- own note stays as it was.
create table if not exists order_actions (
    shop              varchar not null default 'default',
    key               varchar not null,
    order_id          bigint not null,
    action            varchar not null,            -- release | charge_balance
    status            varchar not null,            -- planned | sent | succeeded | rejected | failed | unknown | skipped
    attempt           integer not null default 0,  -- 0, then 1.. after read-back proved "not applied"
    forced            boolean not null default false,
    force_reason      varchar,
    dry_run           boolean not null default false,
    http_status       integer,
    job_id            varchar,                     -- the bulk job that carried the write, if any
    bulk              boolean not null default false, -- sent in a bulk job (job_id once known)
    hint              varchar,                     -- the server's text (409 unblock hint, error)
    note              varchar,                     -- ours: 'not applied (read back)', skip reasons
    dagster_run_id    varchar,
    order_fingerprint varchar not null,            -- md5 of the action's fields as last synced
    planned_at        timestamptz not null,
    sent_at           timestamptz,
    settled_at        timestamptz,
    settled_by        varchar,                     -- the operator who settled it by hand, if any
    settle_reason     varchar,                     -- the operator's reason (required with settled_by)
    primary key (shop, key)
);

-- Files created before operators could settle rows get the two columns; nothing stored changes.
alter table order_actions add column if not exists settled_by varchar;
alter table order_actions add column if not exists settle_reason varchar;
