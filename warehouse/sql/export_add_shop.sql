-- An export table from before shops: its rows were the one shop's, `default`. {table} comes only
-- from warehouse.exports.export_table (a strict name pattern).
create or replace table {table} as
select 'default'::varchar as shop, *
from {table};
