-- Replace one shop's rows of an export table and keep every other shop's: by column name, so
-- two shops' CSVs of one report may differ in columns (missing ones are null) and types (the
-- wider wins). {table} comes only from warehouse.exports.export_table (a strict name pattern).
create or replace table {table} as
select * from {table} where shop <> $shop
union all by name
select $shop::varchar as shop, *, $loaded_at::timestamptz as _loaded_at
from _export_csv;
