"""Ledger rows as earlier runs leave them (no tests here): written through `warehouse.ledger`,
as the runs write them, so the listing, the summaries and settling see real rows. Each helper
writes one shop's rows (`shop`, default `default`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import duckdb

from stoq import JobHandle, JobStatus
from warehouse import jobs, ledger
from warehouse.ledger import Planned
from warehouse.migrate import DEFAULT_SHOP


def planned(
    conn: duckdb.DuckDBPyConnection,
    action: str = "release",
    n: int = 1,
    *,
    shop: str = DEFAULT_SHOP,
) -> list[Planned]:
    """The next keys of `shop`'s first `n` orders `action` would handle (releasable / owing)."""
    if action == "release":
        found = ledger.releasable(conn, shop)
    else:
        found = ledger.awaiting_balance(conn, shop=shop)
    items = ledger.next_keys(conn, action, found, shop=shop)
    assert len(items) >= n
    return items[:n]


def lost_submission(
    conn: duckdb.DuckDBPyConnection,
    items: Sequence[Planned],
    ago: timedelta = timedelta(0),
    *,
    shop: str = DEFAULT_SHOP,
) -> datetime:
    """Rows of a bulk release whose submission answer was lost `ago`: unknown, no job; when."""
    sent_at = datetime.now(UTC) - ago
    for item in items:
        assert ledger.claim(conn, item, now=sent_at, shop=shop) == item.key
    ledger.mark_sent(conn, [i.key for i in items], bulk=True, now=sent_at, shop=shop)
    for item in items:
        note = "bulk submission outcome unknown; not applied yet; read back on later runs"
        ledger.settle(conn, item.key, "unknown", note=note, now=sent_at, shop=shop)
    return sent_at


def in_running_job(
    conn: duckdb.DuckDBPyConnection,
    items: Sequence[Planned],
    job_id: str = "bulk_orders_release_j1",
    *,
    shop: str = DEFAULT_SHOP,
) -> str:
    """Rows sent in a bulk job last polled running at 40%: sent, with the job recorded."""
    for item in items:
        assert ledger.claim(conn, item, shop=shop) == item.key
    ledger.mark_sent(conn, [i.key for i in items], bulk=True, shop=shop)
    handle = JobHandle(job_id, f"https://stoq.test/jobs/{job_id}", len(items), {})
    jobs.save_job(conn, handle, kind="bulk_release", batch_key=f"batch-{job_id}", shop=shop)
    jobs.record_status(conn, job_id, JobStatus(job_id, "running", 40.0), shop=shop)
    ledger.attach_job(conn, [i.key for i in items], job_id, shop=shop)
    return job_id


def settled(
    conn: duckdb.DuckDBPyConnection,
    item: Planned,
    status: str,
    *,
    shop: str = DEFAULT_SHOP,
    **how: object,
) -> None:
    """One row claimed, sent and settled as `status` (`how`: http_status, hint, note, now)."""
    assert ledger.claim(conn, item, shop=shop) == item.key
    ledger.mark_sent(conn, [item.key], shop=shop)
    ledger.settle(conn, item.key, status, shop=shop, **how)  # type: ignore[arg-type]
