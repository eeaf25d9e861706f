"""Dagster resources: the STOQ client and the DuckDB warehouse, configured from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

import warehouse.schema
from stoq import DEFAULT_BASE_URL, StoqClient
from warehouse.connect import LOCK_WAIT_ENV, LOCK_WAIT_S, connect, lock_wait_from_env

DEFAULT_DUCKDB_PATH = "data/preorders.duckdb"
DEFAULT_DEADLINE_S = 120.0
DEFAULT_MAX_BODY_BYTES = 32 * 2**20


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

    deadline_s: float | None = Field(
        default=None,
        description="Seconds per request in all (connect, send, whole body); None means"
        " $STOQ_REQUEST_DEADLINE_S, else 120.",
    )
    max_body_bytes: int | None = Field(
        default=None,
        description="Largest response body accepted; None means $STOQ_MAX_BODY_BYTES, else 32 MiB.",
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

    def resolved_deadline(self) -> float:
        """Request deadline in force: field, then $STOQ_REQUEST_DEADLINE_S (run time), then 120."""
        return _positive(self.deadline_s, "STOQ_REQUEST_DEADLINE_S", DEFAULT_DEADLINE_S, float)

    def resolved_max_body_bytes(self) -> int:
        """Body size cap in force: field, then $STOQ_MAX_BODY_BYTES (run time), then 32 MiB."""
        return _positive(self.max_body_bytes, "STOQ_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, int)

    def client(self) -> StoqClient:
        """A new client; use it as a context manager."""
        return StoqClient(
            self.api_key,
            self.resolved_base_url(),
            concurrency=self.concurrency,
            points_per_window=self.points_per_window,
            timeout=self.timeout,
            max_retries=self.resolved_max_retries(),
            deadline=self.resolved_deadline(),
            max_body_bytes=self.resolved_max_body_bytes(),
        )


N = TypeVar("N", int, float)


def _positive(field: N | None, env: str, default: N, kind: Callable[[str], N]) -> N:
    """The field when set, else $`env` read now, else `default`; a value <= 0 is a ValueError."""
    what = "an integer" if kind is int else "a number"
    if field is not None:
        value, source, shown = field, "the resource field for " + env, repr(field)
    else:
        raw = os.environ.get(env, "").strip()
        if not raw:
            return default
        source, shown = env, repr(raw)
        try:
            value = kind(raw)
        except ValueError:
            raise ValueError(f"{source} must be {what} > 0 (got {shown})") from None
    if not 0 < value < float("inf"):
        raise ValueError(f"{source} must be {what} > 0 (got {shown})")
    return value


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse; the file comes from PREORDERS_DUCKDB_PATH, schema applied on open."""

    database: str = Field(
        default="",
        description=f"DuckDB file; empty means $PREORDERS_DUCKDB_PATH, else {DEFAULT_DUCKDB_PATH}.",
    )
    lock_wait_s: float | None = Field(
        default=None,
        description="Seconds to wait while another process holds the file's lock; None means"
        f" ${LOCK_WAIT_ENV}, else {LOCK_WAIT_S:g}. Other open errors fail at once.",
    )

    def resolved_path(self) -> str:
        """The database file in force (read at run time, never at import)."""
        return self.database or os.environ.get("PREORDERS_DUCKDB_PATH") or DEFAULT_DUCKDB_PATH

    def resolved_lock_wait(self) -> float:
        """Lock wait in force: field, then $PREORDERS_LOCK_WAIT_S (read at run time), then 30."""
        if self.lock_wait_s is not None:
            if not self.lock_wait_s >= 0:
                raise ValueError(f"lock_wait_s must be >= 0 (got {self.lock_wait_s!r})")
            return self.lock_wait_s
        return lock_wait_from_env()

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the file (waiting, bounded, only on another process's lock), schema in place."""
        if self.database:
            label = "WarehouseResource.database"
        elif os.environ.get("PREORDERS_DUCKDB_PATH"):
            label = "PREORDERS_DUCKDB_PATH"
        else:
            label = "default DuckDB path"
        conn = connect(
            self.resolved_path(),
            lock_wait=self.resolved_lock_wait(),
            config=self.connection_config,
            label=label,
        )
        try:
            warehouse.schema.apply(conn)
            yield conn
        finally:
            conn.close()
