-- The last `GET /help?prefix=/preorders` STOQ answered: one row per action it listed.
-- Each fetch replaces every row (in one transaction); `raw` is the whole action entry.
create table if not exists stoq_manifest (
    shop            varchar not null default 'default',
    method          varchar not null,
    path            varchar not null,        -- with :placeholders, as the manifest writes it
    name            varchar,
    aliases         varchar[],
    required_fields varchar[],               -- request_schema.required
    raw             json not null,           -- the action entry as listed
    fetched_at      timestamptz not null,
    primary key (shop, method, path)
);
