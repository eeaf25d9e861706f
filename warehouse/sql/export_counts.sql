-- Rows of this shop and of the other shops in an export table. {table} comes only from
-- warehouse.exports.export_table (a strict name pattern).
select count(*) filter (where shop = $shop), count(*) filter (where shop <> $shop)
from {table};
