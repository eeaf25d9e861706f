"""`read_status` on real DuckDB files synced from a sandbox shop: streams, ledger, jobs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

import warehouse.schema
from preorders.actions import NOT_APPLIED
from preorders.status import Status, never_synced, read_status
from preorders.status_text import as_dict, as_lines
from preorders.sync import sync_orders
from sandbox import FakeClock, Shop, mock_transport
from stoq import JobHandle, JobStatus, StoqClient, errors
from tests.assets.helpers import BASE_URL, make_shop, run_sync
from warehouse import jobs, ledger


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Shop, Path]:
    """A shop of 300 orders synced (offers, then a full orders walk) into a DuckDB file."""
    shop = make_shop(300)
    db = tmp_path_factory.mktemp("status") / "w.duckdb"
    run_sync(shop, db)
    return shop, db


@pytest.fixture
def conn(synced: tuple[Shop, Path], tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private copy of the synced warehouse (a test may write ledger rows and jobs into it)."""
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(synced[1].read_bytes())
    with duckdb.connect(str(copy)) as connection:
        yield connection


def count(conn: duckdb.DuckDBPyConnection, query: str) -> int:
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def test_after_a_sync_each_stream_shows_its_run_cursor_and_rows(synced, conn) -> None:
    shop, _ = synced
    status = read_status(conn)
    assert status.synced
    assert status.warehouse is not None and status.warehouse.endswith("w.duckdb")
    offers, orders = status.streams
    assert [offers.stream, orders.stream] == ["offers", "orders"]
    for stream in (offers, orders):
        assert (stream.mode, stream.outcome, stream.run_id) == ("full", "succeeded", "r")
        assert stream.finished_at is not None and stream.last_success_at == stream.finished_at
    assert orders.rows == 300 == len(shop.truth_orders())
    assert offers.rows == count(conn, "select count(*) from offers") > 0
    newest = count(conn, "select epoch(max(created_at)) from orders")
    assert orders.high_water_mark is not None
    assert int(orders.high_water_mark.timestamp()) == newest
    assert orders.api_total_count == 300
    assert offers.high_water_mark is None


def test_with_an_empty_ledger_every_releasable_order_goes_out_now(conn) -> None:
    status = read_status(conn)
    in_view = count(conn, "select count(*) from releasable_orders")
    assert in_view > 3  # the shop has orders to release: the ledger cases below need them
    assert (status.releasable.in_view, status.releasable.now) == (in_view, in_view)
    assert (status.releasable.in_ledger, status.releasable.waiting) == (0, 0)
    assert status.ledger_open == () and status.jobs == ()
    assert status.open_by_status() == {"planned": 0, "sent": 0, "unknown": 0}


def test_open_rows_retries_and_jobs_in_flight_are_counted(conn) -> None:
    now = datetime.now(UTC)
    first, second, third, fourth, *_ = ledger.next_keys(conn, "release", ledger.releasable(conn))
    for item in (first, second, third, fourth):
        assert ledger.claim(conn, item, now=now - timedelta(minutes=30)) == item.key
    ledger.mark_sent(conn, [second.key, third.key], now=now - timedelta(minutes=20))
    ledger.mark_sent(conn, [fourth.key], now=now - timedelta(seconds=10))  # backoff: 1 min
    ledger.settle(conn, third.key, "unknown")
    ledger.settle(conn, fourth.key, "failed", http_status=503, note=NOT_APPLIED, now=now)
    ledger.claim(conn, ledger.next_keys(conn, "release", ledger.releasable(conn))[0], dry_run=True)
    running = JobHandle("job_running", "http://sandbox.test/jobs/job_running", item_count=40)
    done = JobHandle("job_done", "http://sandbox.test/jobs/job_done", item_count=2)
    for handle in (running, done):
        jobs.save_job(conn, handle, kind="bulk_release", batch_key=handle.job_id)
    jobs.record_status(conn, "job_running", JobStatus("job_running", "running", progress=40))
    jobs.record_status(conn, "job_done", JobStatus("job_done", "completed", progress=100))

    status = read_status(conn, now=now)

    in_view = count(conn, "select count(*) from releasable_orders")
    # planned, sent and unknown rows hold their orders; the failed one waits for its backoff.
    assert status.releasable.now == in_view - 4
    assert (status.releasable.in_ledger, status.releasable.waiting) == (3, 1)
    assert status.open_by_status() == {"planned": 1, "sent": 1, "unknown": 1}  # no dry run
    assert {(g.action, g.status, g.rows) for g in status.ledger_open} == {
        ("release", "planned", 1), ("release", "sent", 1), ("release", "unknown", 1),
    }  # fmt: skip
    oldest = {g.status: g.oldest for g in status.ledger_open}
    assert oldest["planned"] is not None and now - oldest["planned"] >= timedelta(minutes=29)
    assert [(j.job_id, j.last_status, j.last_progress, j.items) for j in status.jobs] == [
        ("job_running", "running", 40.0, 40)
    ]
    text = "\n".join(as_lines(status))
    assert f"releasable  {in_view - 4} now (3 held by the ledger, 1 retries waiting)" in text
    assert "3 open: release planned 1 (oldest 30 min ago); release sent 1" in text
    assert "bulk_release job_running: running 40%, 40 items" in text
    assert "job_done" not in text


def test_a_failed_run_shows_its_message_and_the_last_success(synced, conn) -> None:
    shop, _ = synced
    clock = shop.clock
    assert isinstance(clock, FakeClock)
    wrong = StoqClient(
        "not-the-key", BASE_URL, transport=mock_transport(shop), sleep=clock.sleep,
        clock=clock.monotonic, wall_clock=clock.time, max_retries=0,
    )  # fmt: skip
    with wrong, pytest.raises(errors.Unauthorized):
        sync_orders(wrong, conn, run_id="r2", mode="incremental")
    later = datetime.now(UTC) + timedelta(hours=2)

    status = read_status(conn, now=later)

    orders = status.streams[1]
    assert (orders.run_id, orders.mode, orders.outcome) == ("r2", "incremental", "failed")
    assert orders.message is not None and "Unauthorized" in orders.message
    assert orders.last_success_at is not None and orders.finished_at is not None
    assert orders.last_success_at < orders.finished_at
    assert orders.rows == 300  # the rollback kept the last good data
    line = next(x for x in as_lines(status) if x.startswith("orders"))
    assert line.startswith("orders      incremental sync failed 2 h 0 min ago: Unauthorized")
    assert "; last success 2 h 0 min ago;" in line
    assert as_dict(status)["streams"]["orders"]["age_s"] == pytest.approx(7200, abs=60)


def test_the_json_object_has_the_same_facts(conn) -> None:
    status = read_status(conn)
    facts = json.loads(json.dumps(as_dict(status)))
    assert set(facts) == {
        "warehouse", "at", "synced", "streams", "releasable", "ledger_open",
        "ledger_open_rows", "jobs_in_flight",
    }  # fmt: skip
    assert facts["synced"] is True and facts["warehouse"] == status.warehouse
    assert set(facts["streams"]) == {"offers", "orders"}
    orders = facts["streams"]["orders"]
    assert orders["rows"] == 300 and orders["outcome"] == "succeeded"
    assert datetime.fromisoformat(orders["high_water_mark"]) == status.streams[1].high_water_mark
    assert 0 <= orders["age_s"] < 600
    assert facts["releasable"]["now"] == status.releasable.now > 0
    assert facts["ledger_open"] == {"planned": 0, "sent": 0, "unknown": 0}
    assert facts["jobs_in_flight"] == []


def test_a_warehouse_never_synced_says_so_naming_its_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    with duckdb.connect(str(path)) as conn:
        warehouse.schema.apply(conn)
        status = read_status(conn)
    assert isinstance(status, Status) and not status.synced
    assert [s.rows for s in status.streams] == [0, 0]
    assert [s.finished_at for s in status.streams] == [None, None]
    assert status.releasable.in_view == 0
    assert as_lines(status) == [f"warehouse   {never_synced(str(path))}"]
    assert str(path) in never_synced(str(path), "no such file")
    assert as_dict(status)["synced"] is False
