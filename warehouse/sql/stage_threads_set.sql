-- Set DuckDB's thread count (instance-wide; not transactional).
set threads = $threads;
