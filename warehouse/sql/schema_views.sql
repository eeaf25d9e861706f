-- The views of the open database's schema (the migration drops them; schema.apply re-creates).
select view_name
from duckdb_views()
where not internal and database_name = current_database() and schema_name = current_schema()
order by view_name;
