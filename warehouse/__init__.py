"""DuckDB warehouse for STOQ preorders: schema, frames, merge loads, views."""
