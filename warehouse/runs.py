"""Sync bookkeeping: write sync_state / sync_runs for a load, and read them for the sync planner."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from warehouse import sql
from warehouse.migrate import DEFAULT_SHOP

if TYPE_CHECKING:
    from warehouse.staged_load import StagedLoad


@dataclass
class LoadCounts:
    """What a load did (records merged, not table rows touched); final after finish().

    `rejected` and a preview of `missing` grow while the load runs; the merge counts (inserted,
    updated, unchanged, state_changes) and the final `missing` are set by finish().
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    state_changes: int = 0
    missing: int = 0


#: What blanks the API key out of a failed run's message; the warehouse never holds the key,
#: so the caller that does sets it with `redacting(...)` (identity by default).
_redact: ContextVar[Callable[[str], str]] = ContextVar("sync_runs_redact", default=str)


@contextlib.contextmanager
def redacting(redact: Callable[[str], str]) -> Iterator[None]:
    """Within the block, sync_runs messages pass through `redact` before they are cut short."""
    token = _redact.set(redact)
    try:
        yield
    finally:
        _redact.reset(token)


#: Keys a caller may pass in `finish(stats=...)`; anything else is a typo and raises.
STATS_KEYS = frozenset({"pages", "requests", "retries", "rate_limited", "drift", "message"})


def write_state(
    load: StagedLoad, high_water_mark: datetime | None, total_count: int | None
) -> None:
    """Upsert the stream's sync_state row (inside the load's transaction)."""
    load.conn.execute(
        sql.query("sync_state_upsert"),
        {
            "shop": load.shop,
            "stream": load.stream,
            "high_water_mark": high_water_mark,
            "mark_ceiling": load.mark_ceiling,
            "mode": load.mode,
            "synced_at": load.synced_at,
            "total_count": total_count,
            "run_id": load.run_id,
        },
    )


def check_stats(stats: Mapping[str, Any]) -> None:
    """ValueError for a key that is not a sync_runs stat (a typo)."""
    unknown = set(stats) - STATS_KEYS
    if unknown:
        raise ValueError(
            f"unknown sync_runs stats {sorted(unknown)}; expected {sorted(STATS_KEYS)}"
        )


def write_run(load: StagedLoad, outcome: str, stats: Mapping[str, Any], counts: LoadCounts) -> None:
    """Upsert the (run_id, stream) sync_runs row."""
    check_stats(stats)
    params: dict[str, Any] = {key: stats.get(key) for key in STATS_KEYS}
    if params["message"]:
        params["message"] = _redact.get()(str(params["message"]))
    params |= {
        "shop": load.shop,
        "run_id": load.run_id,
        "stream": load.stream,
        "mode": load.mode,
        "rows_inserted": counts.inserted,
        "rows_updated": counts.updated,
        "rows_unchanged": counts.unchanged,
        "rows_rejected": counts.rejected,
        "rows_missing": counts.missing,
        "started_at": load.started_at,
        "finished_at": datetime.now(UTC),
        "outcome": outcome,
    }
    load.conn.execute(sql.query("sync_runs_upsert"), params)


def sync_state(
    conn: duckdb.DuckDBPyConnection, stream: str, shop: str = DEFAULT_SHOP
) -> dict[str, Any] | None:
    """The shop's stream's sync_state row as a dict, or None before its first successful sync."""
    cursor = conn.execute(sql.query("sync_state_get"), {"stream": stream, "shop": shop})
    row = cursor.fetchone()
    if row is None:
        return None
    names = [d[0] for d in cursor.description or ()]
    return dict(zip(names, row, strict=True))


def open_orders(conn: duckdb.DuckDBPyConnection, shop: str = DEFAULT_SHOP) -> pd.DataFrame:
    """The shop's orders to re-read: DataFrame(id, created_at, state); open, not missing."""
    return conn.execute(sql.query("open_orders"), {"shop": shop}).df()


def record_failure(load: StagedLoad, exc: BaseException) -> None:
    """Write the failed sync_runs row in its own transaction; never mask the original error."""
    try:
        load.conn.begin()
        message = f"{type(exc).__name__}: {exc} (rolled back after {load.staged} records)"
        # Redacted whole, then cut: a key cut in half no longer matches the key.
        write_run(load, "failed", {"message": _redact.get()(message)[:2000]}, LoadCounts())
        load.conn.commit()
    except Exception as inner:  # the original exception is the one that matters
        with contextlib.suppress(duckdb.Error):
            load.conn.rollback()
        exc.add_note(f"warehouse: could not record the failed sync_runs row: {inner!r}")
