"""Dagster resources: the STOQ client and the DuckDB warehouse, configured as preorders.settings.

Each field, when set, wins over the environment; the rules (and their messages) live in
preorders.settings, which the CLI uses too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from preorders.settings import (
    DEFAULT_DEADLINE_S,
    DEFAULT_DUCKDB_PATH,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_RETRIES,
    StoqSettings,
    WarehouseSettings,
    resolve_base_url,
    resolve_deadline,
    resolve_duckdb_path,
    resolve_lock_wait,
    resolve_max_body_bytes,
    resolve_max_retries,
)
from preorders.shops import DEFAULT_KEY_ENV, DEFAULT_SHOP, Shop
from stoq import DEFAULT_BASE_URL, StoqClient
from warehouse.connect import LOCK_WAIT_ENV, LOCK_WAIT_S

#: DuckDB has one writer: every step that opens the warehouse (it opens read-write) is in this
#: pool, and every dagster.yaml the project writes limits it to 1 (pipelines/dagster.yaml).
POOL = "duckdb_writer"

__all__ = ["DEFAULT_DUCKDB_PATH", "StoqResource", "WarehouseResource"]


class StoqResource(dg.ConfigurableResource):
    """The STOQ Preorders v2 API client; the key comes from `EnvVar("STOQ_API_KEY")` (one shop)
    or, with a shops file, from the variable the file names for each shop, read at run time."""

    api_key: str | None = Field(
        default=None,
        description="The `default` shop's API key; the code location sets it from EnvVar"
        " STOQ_API_KEY when no shops file is configured. None: each shop's key is read at run"
        " time from the variable its shops file entry names. Sent only in the X-Auth-Token"
        " header.",
    )
    base_url: str = Field(
        default="",
        description="API base URL; empty means $STOQ_BASE_URL (read at run time), else"
        f" {DEFAULT_BASE_URL}.",
    )
    concurrency: int = Field(default=4, description="Pages fetched at once during a walk.")
    max_concurrency: int | None = Field(
        default=None,
        description="Most pages in flight once a walk grows (slow answers, points left); None"
        " means $STOQ_MAX_CONCURRENCY (read at run time), else 16.",
    )
    points_per_window: int = Field(default=360, description="Rate budget per rolling minute.")
    timeout: float = Field(default=30.0, description="Seconds per request before it times out.")
    max_retries: int | None = Field(
        default=None,
        description="Extra attempts per read; None means $STOQ_MAX_RETRIES (read at run time),"
        f" else {DEFAULT_MAX_RETRIES}.",
    )

    deadline_s: float | None = Field(
        default=None,
        description="Seconds per request in all (connect, send, whole body); None means"
        f" $STOQ_REQUEST_DEADLINE_S (read at run time), else {DEFAULT_DEADLINE_S:g}.",
    )
    max_body_bytes: int | None = Field(
        default=None,
        description="Largest response body accepted (bytes); None means $STOQ_MAX_BODY_BYTES"
        f" (read at run time), else {DEFAULT_MAX_BODY_BYTES // 2**20} MiB.",
    )

    def settings(self) -> StoqSettings:
        """The fields, each unset one resolved from the environment now (at run time)."""
        return StoqSettings.from_env(
            self.api_key,
            base_url=self.base_url,
            max_retries=self.max_retries,
            deadline_s=self.deadline_s,
            max_body_bytes=self.max_body_bytes,
            concurrency=self.concurrency,
            points_per_window=self.points_per_window,
            timeout=self.timeout,
            max_concurrency=self.max_concurrency,
        )

    def resolved_base_url(self) -> str:
        """The base URL in force: field, then $STOQ_BASE_URL (read at run time), then production."""
        return resolve_base_url(self.base_url)

    def resolved_max_retries(self) -> int:
        """Retries in force: field, then $STOQ_MAX_RETRIES (read at run time), then 6."""
        return resolve_max_retries(self.max_retries)

    def resolved_deadline(self) -> float:
        """Request deadline in force: field, then $STOQ_REQUEST_DEADLINE_S (run time), then 120."""
        return resolve_deadline(self.deadline_s)

    def resolved_max_body_bytes(self) -> int:
        """Body size cap in force: field, then $STOQ_MAX_BODY_BYTES (run time), then 32 MiB."""
        return resolve_max_body_bytes(self.max_body_bytes)

    def client(self) -> StoqClient:
        """A new client; use it as a context manager."""
        return self.settings().client()

    def shop_settings(self, shop: Shop) -> StoqSettings:
        """`shop`'s settings, its key read now: the `default` shop of a deployment without a
        shops file as `settings()` (this resource's key and base URL); any other shop with the key
        from the variable its entry names (MissingKey naming it when unset), its base URL and rate
        budget (this resource's base_url, when set, wins), and this resource's other fields."""
        if shop.name == DEFAULT_SHOP and shop.api_key_env == DEFAULT_KEY_ENV:
            return self.settings()
        return StoqSettings.from_env(
            shop.api_key(),
            base_url=self.base_url or shop.base_url,
            max_retries=self.max_retries,
            deadline_s=self.deadline_s,
            max_body_bytes=self.max_body_bytes,
            concurrency=self.concurrency,
            points_per_window=shop.points_per_window,
            timeout=self.timeout,
            max_concurrency=self.max_concurrency,
        )


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse; the file comes from PREORDERS_DUCKDB_PATH, schema applied on open."""

    database: str = Field(
        default="",
        description="DuckDB file; empty means $PREORDERS_DUCKDB_PATH (read at run time), else"
        f" {DEFAULT_DUCKDB_PATH} (relative to the working directory).",
    )
    lock_wait_s: float | None = Field(
        default=None,
        description="Seconds to wait while another process holds the file's lock; None means"
        f" ${LOCK_WAIT_ENV} (read at run time), else {LOCK_WAIT_S:g}. Other open errors fail at"
        " once.",
    )

    def settings(self) -> WarehouseSettings:
        """The fields, each unset one resolved from the environment now (at run time)."""
        return WarehouseSettings.from_env(self.database, self.lock_wait_s)

    def resolved_path(self) -> str:
        """The database file in force (read at run time, never at import)."""
        return resolve_duckdb_path(self.database)[0]

    def resolved_lock_wait(self) -> float:
        """Lock wait in force: field, then $PREORDERS_LOCK_WAIT_S (read at run time), then 30."""
        return resolve_lock_wait(self.lock_wait_s)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the file (waiting, bounded, only on another process's lock), schema in place."""
        with self.settings().connect(config=self.connection_config) as conn:
            yield conn
