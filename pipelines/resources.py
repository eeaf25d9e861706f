"""Dagster resources of the code location; defined in assets/ so assets never import pipelines/."""

from assets.resources import DEFAULT_DUCKDB_PATH, StoqResource, WarehouseResource

__all__ = ["DEFAULT_DUCKDB_PATH", "StoqResource", "WarehouseResource"]
