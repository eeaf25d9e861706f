-- DuckDB's memory limit (text such as '18.8 GiB') and thread count; both instance-wide.
select current_setting('memory_limit'), current_setting('threads');
