-- Base tables (never views) of this database named like an export, old (report_) or new
-- (export_); warehouse.exports.rename_legacy_tables moves the old ones.
select table_name
from duckdb_tables()
where database_name = current_database()
  and schema_name = 'main'
  and not temporary
  and (starts_with(table_name, 'report_') or starts_with(table_name, 'export_'));
