-- Record one fact about the file (schema_meta).
insert or replace into schema_meta (key, value) values ($key, $value);
