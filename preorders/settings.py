"""Configuration from the environment: the STOQ client and the DuckDB warehouse, no Dagster.

    with client_from_env() as client, open_warehouse() as conn:     # the CLI, a notebook
        ...
    StoqSettings.from_env(self.api_key, base_url=self.base_url)     # StoqResource.client()

Every value is read when it is asked for, never at import: an explicit argument (a resource
field) wins, then the environment, then the default. Each concern resolves on its own, so a bad
STOQ_MAX_RETRIES cannot break `preorders report`, nor a bad PREORDERS_LOCK_WAIT_S `offers list`.

| variable                | default                | meaning                                     |
| ----------------------- | ---------------------- | ------------------------------------------- |
| STOQ_API_KEY            | (required)             | the shop's key, sent only in X-Auth-Token   |
| STOQ_BASE_URL           | the production API     | API base URL                                |
| STOQ_MAX_RETRIES        | 6                      | extra attempts per read                     |
| STOQ_REQUEST_DEADLINE_S | 120                    | seconds per request in all                  |
| STOQ_MAX_BODY_BYTES     | 32 MiB                 | largest response body accepted              |
| STOQ_MAX_CONCURRENCY    | 16                     | most requests a walk keeps in flight        |
| PREORDERS_DUCKDB_PATH   | data/preorders.duckdb  | the warehouse file                          |
| PREORDERS_LOCK_WAIT_S   | 30                     | seconds to wait on another process's lock   |
| PREORDERS_UNKNOWN_SUBMISSION_HOLD_S | 3600       | seconds a lost bulk submission stays open   |
| PREORDERS_CHARGE_PENDING_HOLD_S     | 3600       | seconds an accepted charge may still settle |

Imports only the standard library at module top: `stoq` (httpx) loads when a client is built,
DuckDB and the schema when the warehouse is resolved or opened. So `preorders --help` pays for
neither, `offers list` never for DuckDB, and a missing key exits before the client is imported.
The two holds (`resolve_hold`) reach `ActionSettings.from_env`: a CLI flag or a run config
field wins over the environment; a bad value is a ConfigurationError (exit 2).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import duckdb

    from stoq import StoqClient

DEFAULT_DUCKDB_PATH = "data/preorders.duckdb"
DEFAULT_MAX_RETRIES = 6
DEFAULT_DEADLINE_S = 120.0
DEFAULT_MAX_BODY_BYTES = 32 * 2**20
# A walk starts at `concurrency` (4) in flight and grows up to this while answers are slow.
DEFAULT_MAX_CONCURRENCY = 16

NO_KEY = "STOQ_API_KEY is not set; export your shop's API key"

DEFAULT_HOLD_S = 3600.0
UNKNOWN_SUBMISSION_HOLD = "PREORDERS_UNKNOWN_SUBMISSION_HOLD_S"
CHARGE_PENDING_HOLD = "PREORDERS_CHARGE_PENDING_HOLD_S"


class MissingKey(Exception):
    """Raised when STOQ_API_KEY is not set (and no key was given); the CLI exits 2 on it."""


def read_key() -> str:
    """STOQ_API_KEY read now, stripped; empty when unset."""
    return os.environ.get("STOQ_API_KEY", "").strip()


def api_key(*, hint: str = "") -> str:
    """STOQ_API_KEY read now (never at import); MissingKey, with `hint` appended, when unset."""
    key = read_key()
    if not key:
        raise MissingKey(f"{NO_KEY} ({hint})" if hint else NO_KEY)
    return key


# -- one rule per setting: the argument, then the environment (read now), then the default ----


def resolve_base_url(value: str = "", env: Mapping[str, str] | None = None) -> str:
    """The base URL in force: `value`, then $STOQ_BASE_URL (of `env`), then the production API."""
    from stoq.client import DEFAULT_BASE_URL

    environ = os.environ if env is None else env
    return value or environ.get("STOQ_BASE_URL") or DEFAULT_BASE_URL


def resolve_max_retries(value: int | None = None) -> int:
    """Retries in force: `value`, then $STOQ_MAX_RETRIES, then 6."""
    if value is not None:
        return value
    raw = os.environ.get("STOQ_MAX_RETRIES", "").strip()
    try:
        retries = int(raw or DEFAULT_MAX_RETRIES)
    except ValueError:
        raise ValueError(f"STOQ_MAX_RETRIES must be an integer (got {raw!r})") from None
    if retries < 0:
        raise ValueError(f"STOQ_MAX_RETRIES must be an integer >= 0 (got {raw!r})")
    return retries


def resolve_deadline(value: float | None = None) -> float:
    """Request deadline in force: `value`, then $STOQ_REQUEST_DEADLINE_S, then 120."""
    return _positive(value, "STOQ_REQUEST_DEADLINE_S", DEFAULT_DEADLINE_S, float)


def resolve_max_body_bytes(value: int | None = None) -> int:
    """Body size cap in force: `value`, then $STOQ_MAX_BODY_BYTES, then 32 MiB."""
    return _positive(value, "STOQ_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, int)


def resolve_max_concurrency(value: int | None = None) -> int:
    """Most requests a walk keeps in flight: `value`, then $STOQ_MAX_CONCURRENCY, then 16."""
    return _positive(value, "STOQ_MAX_CONCURRENCY", DEFAULT_MAX_CONCURRENCY, int)


def resolve_duckdb_path(value: str = "") -> tuple[str, str]:
    """The warehouse file in force and the setting it came from (named in open errors)."""
    if value:
        return value, "WarehouseResource.database"
    if env := os.environ.get("PREORDERS_DUCKDB_PATH"):
        return env, "PREORDERS_DUCKDB_PATH"
    return DEFAULT_DUCKDB_PATH, "default DuckDB path"


def resolve_lock_wait(value: float | None = None) -> float:
    """Lock wait in force: `value` (>= 0), then $PREORDERS_LOCK_WAIT_S, then 30."""
    if value is not None:
        if not value >= 0:
            raise ValueError(f"lock_wait_s must be >= 0 (got {value!r})")
        return value
    from warehouse.connect import lock_wait_from_env  # imports duckdb

    return lock_wait_from_env()


def resolve_hold(env: str, value: float | None = None, source: str = "") -> float:
    """Seconds of a hold in force: `value` (a flag or run config field, named by `source`), then
    $`env` read now, then 3600; a negative or non-numeric one is a ConfigurationError naming it."""
    shown: object = value
    if value is None:
        raw = os.environ.get(env, "").strip()
        if not raw:
            return DEFAULT_HOLD_S
        source, shown = env, raw
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
    if not 0 <= value <= 10**9:  # also nan and inf; a billion seconds is ~32 years
        from stoq.errors import ConfigurationError  # late: httpx only on this error

        raise ConfigurationError(
            f"{source or env} must be a number of seconds >= 0 (got {shown!r})"
        )
    return float(value)


N = TypeVar("N", int, float)


def _positive(value: N | None, env: str, default: N, kind: Callable[[str], N]) -> N:
    """`value` when set, else $`env` read now, else `default`; a value <= 0 is a ValueError."""
    what = "an integer" if kind is int else "a number"
    if value is not None:
        source, shown = "the resource field for " + env, repr(value)
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


# -- the two settings objects ------------------------------------------------------------------


@dataclass(frozen=True)
class StoqSettings:
    """Everything a StoqClient is built from; the key never shows in its repr."""

    api_key: str = field(repr=False)
    base_url: str
    max_retries: int
    deadline_s: float
    max_body_bytes: int
    concurrency: int = 4
    points_per_window: int = 360
    timeout: float = 30.0
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY

    @classmethod
    def from_env(
        cls,
        api_key: str | None = None,
        *,
        base_url: str = "",
        max_retries: int | None = None,
        deadline_s: float | None = None,
        max_body_bytes: int | None = None,
        concurrency: int = 4,
        points_per_window: int = 360,
        timeout: float = 30.0,
        max_concurrency: int | None = None,
    ) -> StoqSettings:
        """Resolve each setting now; the key first (MissingKey when it is empty or unset)."""
        key = read_key() if api_key is None else api_key.strip()
        if not key:
            raise MissingKey(NO_KEY)
        return cls(
            api_key=key,
            base_url=resolve_base_url(base_url),
            max_retries=resolve_max_retries(max_retries),
            deadline_s=resolve_deadline(deadline_s),
            max_body_bytes=resolve_max_body_bytes(max_body_bytes),
            concurrency=concurrency,
            points_per_window=points_per_window,
            timeout=timeout,
            max_concurrency=resolve_max_concurrency(max_concurrency),
        )

    def client(self, **options: Any) -> StoqClient:
        """A new client (`options`: e.g. `transport=` for tests); use it as a context manager."""
        from stoq import StoqClient

        return StoqClient(
            self.api_key,
            self.base_url,
            concurrency=self.concurrency,
            max_concurrency=self.max_concurrency,
            points_per_window=self.points_per_window,
            timeout=self.timeout,
            max_retries=self.max_retries,
            deadline=self.deadline_s,
            max_body_bytes=self.max_body_bytes,
            **options,
        )


@dataclass(frozen=True)
class WarehouseSettings:
    """The DuckDB file, the setting it came from (`source`), and how long to wait on a lock."""

    path: str
    source: str
    lock_wait_s: float

    @classmethod
    def from_env(cls, database: str = "", lock_wait_s: float | None = None) -> WarehouseSettings:
        """Resolve the path and the lock wait now."""
        path, source = resolve_duckdb_path(database)
        return cls(path=path, source=source, lock_wait_s=resolve_lock_wait(lock_wait_s))

    @contextmanager
    def connect(
        self, config: Mapping[str, Any] | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the file (waiting, bounded, only on another process's lock), schema in place;
        a permanent local error (a directory, not a DuckDB file) raises WarehouseUnavailable."""
        import warehouse.schema
        from warehouse.connect import connect

        conn = connect(self.path, lock_wait=self.lock_wait_s, config=config, label=self.source)
        try:
            warehouse.schema.apply(conn)
            yield conn
        finally:
            conn.close()


def client_from_env(api_key: str | None = None, **overrides: Any) -> StoqClient:
    """A client configured from the environment (the key: `api_key`, else STOQ_API_KEY)."""
    return StoqSettings.from_env(api_key, **overrides).client()


def warehouse_from_env(**overrides: Any) -> WarehouseSettings:
    """The warehouse in force (`database=`, `lock_wait_s=` override the environment)."""
    return WarehouseSettings.from_env(**overrides)


def open_warehouse(**overrides: Any) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """`with open_warehouse() as conn:` a connection to the warehouse in force, schema applied."""
    return warehouse_from_env(**overrides).connect()
