"""Dagster resources: the STOQ client and the DuckDB warehouse, configured from the environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

import warehouse.schema
from stoq import DEFAULT_BASE_URL, StoqClient

DEFAULT_DUCKDB_PATH = "data/preorders.duckdb"


class StoqResource(dg.ConfigurableResource):
    """The STOQ Preorders v2 API client; the key comes from `EnvVar("STOQ_API_KEY")`."""

    api_key: str = Field(description="Shop API key, sent only in the X-Auth-Token header.")
    base_url: str = Field(
        default="",
        description="API base URL; empty means $STOQ_BASE_URL, else the production API.",
    )
    concurrency: int = Field(default=4, description="Pages fetched at once during a walk.")
    points_per_window: int = Field(default=360, description="Rate budget per rolling minute.")
    timeout: float = Field(default=30.0, description="Seconds per request before it times out.")
    max_retries: int | None = Field(
        default=None,
        description="Extra attempts per read; None means $STOQ_MAX_RETRIES, else 6.",
    )

    def resolved_base_url(self) -> str:
        """The base URL in force: field, then $STOQ_BASE_URL (read at run time), then production."""
        return self.base_url or os.environ.get("STOQ_BASE_URL") or DEFAULT_BASE_URL

    def resolved_max_retries(self) -> int:
        """Retries in force: field, then $STOQ_MAX_RETRIES (read at run time), then 6."""
        if self.max_retries is not None:
            return self.max_retries
        raw = os.environ.get("STOQ_MAX_RETRIES", "").strip()
        try:
            retries = int(raw or 6)
        except ValueError:
            raise ValueError(f"STOQ_MAX_RETRIES must be an integer (got {raw!r})") from None
        if retries < 0:
            raise ValueError(f"STOQ_MAX_RETRIES must be an integer >= 0 (got {raw!r})")
        return retries

    def client(self) -> StoqClient:
        """A new client; use it as a context manager."""
        return StoqClient(
            self.api_key,
            self.resolved_base_url(),
            concurrency=self.concurrency,
            points_per_window=self.points_per_window,
            timeout=self.timeout,
            max_retries=self.resolved_max_retries(),
        )


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse; the file comes from PREORDERS_DUCKDB_PATH, schema applied on open."""

    database: str = Field(
        default="",
        description=f"DuckDB file; empty means $PREORDERS_DUCKDB_PATH, else {DEFAULT_DUCKDB_PATH}.",
    )

    def resolved_path(self) -> str:
        """The database file in force (read at run time, never at import)."""
        return self.database or os.environ.get("PREORDERS_DUCKDB_PATH") or DEFAULT_DUCKDB_PATH

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the file (retrying on the single-writer lock) with the schema in place."""
        path = self.resolved_path()
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        opener = DuckDBResource(database=path, connection_config=self.connection_config)
        with opener.get_connection() as conn:
            warehouse.schema.apply(conn)
            yield conn
