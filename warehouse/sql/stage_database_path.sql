-- The file of the connection's current database (null when it is in memory): stages live beside it.
select path from duckdb_databases() where database_name = current_database();
