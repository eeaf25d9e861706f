-- The column names of one base table of the open database, in order (none: no such table).
select column_name
from duckdb_columns()
where database_name = current_database()
  and schema_name = 'main'
  and table_name = $table
  and not internal
order by column_index;
