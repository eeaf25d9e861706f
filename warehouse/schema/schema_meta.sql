-- Facts about the file itself, one row per key: `schema_version` (the layout the tables have;
-- see warehouse/migrate.py), `migrated_v1_at` (when a single-shop file was migrated in place) and
-- `schema_files` (a digest of the schema files last applied: an open with the same files skips
-- the apply; warehouse/schema.py).
create table if not exists schema_meta (
    key   varchar primary key,
    value varchar not null
);
