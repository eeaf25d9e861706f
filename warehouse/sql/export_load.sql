-- Replace an export table with a downloaded CSV. {table} comes only from warehouse.exports.export_table (a strict name pattern).
create or replace table {table} as
select *, $loaded_at::timestamptz as _loaded_at
from read_csv($path, header = true, auto_detect = true);
