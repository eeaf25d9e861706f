-- Set DuckDB's memory limit (instance-wide; not transactional).
set memory_limit = $memory;
