-- The columns of one table of the open database (its catalog and schema), in order: name, type,
-- whether it may be null, whether it is part of the primary key.
select
    c.table_catalog,
    c.table_schema,
    c.column_name,
    c.data_type,
    c.is_nullable = 'YES' as nullable,
    coalesce(list_contains(k.constraint_column_names, c.column_name), false) as in_key
from information_schema.columns as c
left join duckdb_constraints() as k
    on k.database_name = c.table_catalog
    and k.schema_name = c.table_schema
    and k.table_name = c.table_name
    and k.constraint_type = 'PRIMARY KEY'
where c.table_catalog = current_database()
    and c.table_schema = current_schema()
    and c.table_name = $table
order by c.ordinal_position;
