-- The column names of one base table of the open database, in order (none: no such table).
select c.column_name
from information_schema.columns as c
join information_schema.tables as t
    on t.table_catalog = c.table_catalog
    and t.table_schema = c.table_schema
    and t.table_name = c.table_name
where c.table_catalog = current_database()
    and c.table_schema = current_schema()
    and c.table_name = $table
    and t.table_type = 'BASE TABLE'
order by c.ordinal_position;
