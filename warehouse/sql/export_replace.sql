-- The export table holds only this shop's rows: replace it with the staged CSV, so a report
-- whose columns changed keeps no stale ones. {table} comes only from
-- warehouse.exports.export_table (a strict name pattern).
create or replace table {table} as
select $shop::varchar as shop, *, $loaded_at::timestamptz as _loaded_at
from _export_csv;
