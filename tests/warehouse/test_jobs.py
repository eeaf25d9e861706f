"""The `jobs` table: save before polling, find by batch key, record polls, open jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

import warehouse.schema
from stoq import JobHandle, JobStatus
from warehouse import jobs

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        warehouse.schema.apply(c)
        yield c


def handle(job_id: str = "bulk_orders_release_1", count: int | None = 3) -> JobHandle:
    body = {"job_id": job_id, "status_url": f"/api/v2/external/preorders/orders/jobs/{job_id}"}
    if count is not None:
        body["order_count"] = count
    return JobHandle.parse(body)


def status(job_id: str, state: str, progress: float = 0, **extra) -> JobStatus:
    return JobStatus.parse({"job_id": job_id, "status": state, "progress": progress, **extra})


def test_saved_job_is_found_by_batch_key_and_open(conn):
    jobs.save_job(conn, handle(), kind="bulk_release", batch_key="k1", run_id="run-a", now=T0)
    row = jobs.find_job(conn, "k1")
    assert row["job_id"] == "bulk_orders_release_1"
    assert row["status_url"] == "/api/v2/external/preorders/orders/jobs/bulk_orders_release_1"
    assert (row["kind"], row["item_count"], row["dagster_run_id"]) == ("bulk_release", 3, "run-a")
    assert row["last_status"] == "running" and row["finished_at"] is None
    assert [r["job_id"] for r in jobs.open_jobs(conn)] == ["bulk_orders_release_1"]
    assert jobs.find_job(conn, "other") is None


def test_find_job_returns_the_newest_submission_for_a_key(conn):
    jobs.save_job(conn, handle("a"), kind="export", batch_key="k", now=T0)
    jobs.save_job(conn, handle("b"), kind="export", batch_key="k", now=T0 + timedelta(1))
    assert jobs.find_job(conn, "k")["job_id"] == "b"


def test_saving_again_only_moves_the_job_to_the_reattaching_run(conn):
    jobs.save_job(conn, handle(), kind="bulk_release", batch_key="k", run_id="run-a", now=T0)
    jobs.save_job(conn, handle(), kind="export", batch_key="other", run_id="run-b")
    row = jobs.get_job(conn, "bulk_orders_release_1")
    assert (row["kind"], row["batch_key"], row["dagster_run_id"]) == ("bulk_release", "k", "run-b")
    assert row["submitted_at"] == T0


def test_record_status_tracks_progress_and_closes_on_terminal(conn):
    jobs.save_job(conn, handle("exp_1", None), kind="export", batch_key="k", now=T0)
    jobs.record_status(conn, "exp_1", status("exp_1", "running", 50))
    row = jobs.get_job(conn, "exp_1")
    assert (row["last_status"], row["last_progress"], row["finished_at"]) == ("running", 50, None)
    url = "https://s3.test/exp_1.csv?X-Amz-Signature=abc"
    jobs.record_status(conn, "exp_1", status("exp_1", "ready", 100, download_url=url))
    row = jobs.get_job(conn, "exp_1")
    assert row["last_status"] == "ready" and row["download_url"] == url
    assert row["finished_at"] is not None and jobs.open_jobs(conn) == []
    assert '"ready"' in row["raw"]


def test_failed_status_keeps_the_error_text(conn):
    jobs.save_job(conn, handle(), kind="bulk_release", batch_key="k")
    jobs.record_status(conn, handle().job_id, status(handle().job_id, "failed", 40, error="boom"))
    row = jobs.get_job(conn, handle().job_id)
    assert (row["last_status"], row["error"]) == ("failed", "boom")
    assert jobs.is_finished(row)


def test_record_error_without_status_leaves_the_job_open(conn):
    jobs.save_job(conn, handle(), kind="bulk_release", batch_key="k")
    jobs.record_status(conn, handle().job_id, status(handle().job_id, "running", 25))
    jobs.record_error(conn, handle().job_id, "still running after 600s")
    row = jobs.get_job(conn, handle().job_id)
    assert (row["last_status"], row["last_progress"]) == ("running", 25)
    assert row["error"] == "still running after 600s" and not jobs.is_finished(row)
    # A later successful poll clears the stale timeout note.
    jobs.record_status(conn, handle().job_id, status(handle().job_id, "completed", 100))
    assert jobs.get_job(conn, handle().job_id)["error"] is None


def test_not_found_is_terminal(conn):
    jobs.save_job(conn, handle(), kind="bulk_release", batch_key="k")
    jobs.record_error(conn, handle().job_id, "expired", status="not_found")
    assert jobs.is_finished(jobs.get_job(conn, handle().job_id))
    assert jobs.open_jobs(conn) == []


def test_one_job_id_in_two_shops_is_two_jobs(conn):
    jobs.save_job(conn, handle(), kind="bulk_release", batch_key="k", now=T0)
    jobs.save_job(conn, handle(), kind="bulk_release", batch_key="k", now=T0, shop="eu")
    jobs.record_status(conn, "bulk_orders_release_1", status("x", "completed", 100), shop="eu")
    jobs.record_error(conn, "bulk_orders_release_1", "timed out")
    mine, theirs = jobs.find_job(conn, "k"), jobs.find_job(conn, "k", shop="eu")
    assert (mine["shop"], mine["last_status"], mine["error"]) == ("default", "running", "timed out")
    assert (theirs["shop"], theirs["last_status"], theirs["error"]) == ("eu", "completed", None)
    assert jobs.get_job(conn, "bulk_orders_release_1", shop="eu")["finished_at"] is not None
    assert jobs.get_job(conn, "bulk_orders_release_1", shop="us") is None
    assert [j["shop"] for j in jobs.open_jobs(conn)] == ["default"]  # eu's has finished
    assert [j["shop"] for j in jobs.open_jobs(conn, shop="default")] == ["default"]
    assert jobs.open_jobs(conn, shop="eu") == []
