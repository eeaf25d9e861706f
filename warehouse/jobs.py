"""Persisted async jobs (`jobs` table); finished exports load through `warehouse.exports`.

A job belongs to the shop whose key submitted it: job ids and batch keys are unique per shop only
(the primary key is (shop, job_id)), so every read and write takes `shop` (default `default`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol

import duckdb

from warehouse import sql
from warehouse.migrate import DEFAULT_SHOP

#: Statuses after which a job can no longer change; `not_found` is ours (404: expired/unknown).
TERMINAL = frozenset({"completed", "ready", "failed", "cancelled", "not_found"})


class Handle(Protocol):
    """What a job submission gives us (stoq.JobHandle fits; warehouse never imports stoq)."""

    # Read-only members: frozen dataclasses (stoq.JobHandle) fit them.
    @property
    def job_id(self) -> str: ...
    @property
    def status_url(self) -> str: ...
    @property
    def item_count(self) -> int | None: ...
    @property
    def raw(self) -> dict[str, Any]: ...


class Status(Protocol):
    """What one poll gives us (stoq.JobStatus fits)."""

    @property
    def status(self) -> str: ...
    @property
    def progress(self) -> float | None: ...
    @property
    def error(self) -> Any: ...
    @property
    def raw(self) -> dict[str, Any]: ...
    @property
    def download_url(self) -> str | None: ...


def save_job(
    conn: duckdb.DuckDBPyConnection,
    handle: Handle,
    *,
    kind: str,
    batch_key: str,
    run_id: str | None = None,
    now: datetime | None = None,
    shop: str = DEFAULT_SHOP,
) -> None:
    """Persist a job `shop` submitted before polling it; saving it again records the
    re-attaching run."""
    conn.execute(
        sql.query("job_insert"),
        {
            "shop": shop,
            "job_id": handle.job_id,
            "kind": kind,
            "batch_key": batch_key,
            "status_url": handle.status_url,
            "item_count": handle.item_count,
            "submitted_at": now or datetime.now(UTC),
            "run_id": run_id,
            "raw": json.dumps(handle.raw or {}),
        },
    )


def find_job(
    conn: duckdb.DuckDBPyConnection, batch_key: str, *, shop: str = DEFAULT_SHOP
) -> dict[str, Any] | None:
    """The newest job `shop` submitted for `batch_key`, or None."""
    return _one(conn, "job_find", {"batch_key": batch_key, "shop": shop})


def get_job(
    conn: duckdb.DuckDBPyConnection, job_id: str, *, shop: str = DEFAULT_SHOP
) -> dict[str, Any] | None:
    """One job row of `shop` by id, or None."""
    return _one(conn, "job_get", {"job_id": job_id, "shop": shop})


def open_jobs(conn: duckdb.DuckDBPyConnection, *, shop: str | None = None) -> list[dict[str, Any]]:
    """Jobs never seen in a terminal state, oldest first: `shop`'s, or every shop's (None, each
    row with its `shop`)."""
    return _rows(conn.execute(sql.query("job_open"), {"shop": shop}))


def record_status(
    conn: duckdb.DuckDBPyConnection,
    job_id: str,
    status: Status,
    *,
    now: datetime | None = None,
    shop: str = DEFAULT_SHOP,
) -> None:
    """Record one poll's answer (status, progress, error, download URL, body) on `shop`'s job."""
    error = status.error
    _update(
        conn,
        shop,
        job_id,
        status=status.status,
        progress=status.progress,
        error=None if error is None else str(error),
        download_url=status.download_url,
        raw=json.dumps(status.raw or {}),
        now=now,
    )


def record_error(
    conn: duckdb.DuckDBPyConnection,
    job_id: str,
    error: str,
    *,
    status: str | None = None,
    now: datetime | None = None,
    shop: str = DEFAULT_SHOP,
) -> None:
    """Record why tracking stopped (timeout, stall, 404) without a poll body to show for it."""
    _update(conn, shop, job_id, status=status, progress=None, error=error, download_url=None,
            raw=None, now=now)  # fmt: skip


def is_finished(row: dict[str, Any]) -> bool:
    """Whether a jobs row is settled (a terminal status was seen or recorded)."""
    return row.get("finished_at") is not None or row.get("last_status") in TERMINAL


def _update(conn: duckdb.DuckDBPyConnection, shop: str, job_id: str, *, status: str | None,
            progress: float | None, error: str | None, download_url: str | None,
            raw: str | None, now: datetime | None) -> None:  # fmt: skip
    conn.execute(
        sql.query("job_record_status"),
        {
            "shop": shop,
            "job_id": job_id,
            "status": status,
            "progress": progress,
            "polled_at": now or datetime.now(UTC),
            "terminal": status in TERMINAL,
            "error": error,
            "download_url": download_url,
            "raw": raw,
        },
    )


def _one(conn: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> dict | None:
    rows = _rows(conn.execute(sql.query(name), params))
    return rows[0] if rows else None


def _rows(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
