-- Drop the staged CSV once its rows are in the export table.
drop table if exists _export_csv;
