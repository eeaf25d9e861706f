-- One fact about the file (schema_meta), e.g. schema_version.
select value from schema_meta where key = $key;
