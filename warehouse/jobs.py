"""Persisted async jobs (`jobs` table) and the loading of finished report exports."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from warehouse import sql

#: Statuses after which a job can no longer change; `not_found` is ours (404: expired/unknown).
TERMINAL = frozenset({"completed", "ready", "failed", "cancelled", "not_found"})

#: What a report name must look like before it may name a table (`report_<name>`). This pattern
#: replaces a fixed set: table names are never spliced from anything that fails it.
REPORT_NAME = re.compile(r"[a-z][a-z0-9_]{0,40}")

#: Report names we know of, for documentation and as an offline fallback only: the live catalog
#: (`GET /preorders/reports`) decides. SPEC §5.3 names the first five and infers `by_product`;
#: the last three are the sandbox's names for the reports the docs leave unnamed.
KNOWN_REPORTS = (
    "summary",
    "revenue",
    "by_date",
    "by_variant",
    "customers",
    "by_product",
    "by_offer",
    "by_state",
    "balance_aging",
)


def report_table(report: str) -> str:
    """`report_<report>`, once the name matches `^[a-z][a-z0-9_]{0,40}$`; ValueError otherwise."""
    # fullmatch, not `$`: `$` would let a trailing newline through.
    if not isinstance(report, str) or not REPORT_NAME.fullmatch(report):
        raise ValueError(
            f"unknown report {report!r}: a report name is lowercase letters, digits and _"
            f" (^{REPORT_NAME.pattern}$)"
        )
    return f"report_{report}"


class Handle(Protocol):
    """What a job submission gives us (stoq.JobHandle fits; warehouse never imports stoq)."""

    job_id: str
    status_url: str
    item_count: int | None
    raw: dict[str, Any]


class Status(Protocol):
    """What one poll gives us (stoq.JobStatus fits)."""

    status: str
    progress: float | None
    error: Any
    raw: dict[str, Any]

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
) -> None:
    """Persist a submitted job before polling it; saving it again records the re-attaching run."""
    conn.execute(
        sql.query("job_insert"),
        {
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


def find_job(conn: duckdb.DuckDBPyConnection, batch_key: str) -> dict[str, Any] | None:
    """The newest job submitted for `batch_key`, or None."""
    return _one(conn, "job_find", {"batch_key": batch_key})


def get_job(conn: duckdb.DuckDBPyConnection, job_id: str) -> dict[str, Any] | None:
    """One job row by id, or None."""
    return _one(conn, "job_get", {"job_id": job_id})


def open_jobs(conn: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Jobs never seen in a terminal state, oldest first."""
    return _rows(conn.execute(sql.query("job_open")))


def record_status(
    conn: duckdb.DuckDBPyConnection, job_id: str, status: Status, *, now: datetime | None = None
) -> None:
    """Record one poll's answer (status, progress, error, download URL, body)."""
    error = status.error
    _update(
        conn,
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
) -> None:
    """Record why tracking stopped (timeout, stall, 404) without a poll body to show for it."""
    _update(conn, job_id, status=status, progress=None, error=error, download_url=None, raw=None,
            now=now)  # fmt: skip


def is_finished(row: dict[str, Any]) -> bool:
    """Whether a jobs row is settled (a terminal status was seen or recorded)."""
    return row.get("finished_at") is not None or row.get("last_status") in TERMINAL


def load_report(
    conn: duckdb.DuckDBPyConnection,
    report: str,
    csv_path: str | Path,
    *,
    loaded_at: datetime | None = None,
) -> int:
    """Replace `report_<report>` with the CSV's rows plus `_loaded_at`, in one transaction."""
    table = report_table(report)
    statement = sql.query("export_load").format(table=table)
    params = {"path": str(csv_path), "loaded_at": loaded_at or datetime.now(UTC)}
    conn.begin()
    try:
        conn.execute(statement, params)
        # An identifier cannot be bound; `table` passed report_table's strict pattern.
        row = conn.execute(f"select count(*) from {table}").fetchone()
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return int(row[0]) if row else 0


def _update(conn: duckdb.DuckDBPyConnection, job_id: str, *, status: str | None,
            progress: float | None, error: str | None, download_url: str | None,
            raw: str | None, now: datetime | None) -> None:  # fmt: skip
    conn.execute(
        sql.query("job_record_status"),
        {
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
