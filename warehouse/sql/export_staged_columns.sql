-- The column names of the staged CSV (export_load.sql), in order.
select column_name from (describe _export_csv);
