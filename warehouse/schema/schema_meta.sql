-- Facts about the file itself, one row per key: `schema_version` (the layout the tables have;
-- see warehouse/migrate.py) and `migrated_v1_at` (when a single-shop file was migrated in place).
create table if not exists schema_meta (
    key   varchar primary key,
    value varchar not null
);
