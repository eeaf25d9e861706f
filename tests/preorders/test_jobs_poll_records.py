"""`preorders jobs poll` records into `jobs` like the `poll_job` op: both go through
`preorders.jobtracking` (`track_status_url`, `track_job`)."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.cli import main
from preorders.jobtracking import describe_job_error, track_status_url
from preorders.variants import submit_variant_job
from sandbox import DEFAULT_API_KEY, SandboxConfig, Shop, mock_transport, serve
from stoq import JobHandle, StoqClient, errors
from warehouse import jobs, schema

BASE_URL = "http://sandbox.test/api/v2/external"


@pytest.fixture(scope="module")
def live():
    shop = Shop(SandboxConfig(rate_limit_points=1_000_000, orders=10, job_steps=2))
    with serve(shop) as running:
        yield running


@pytest.fixture
def db(live, tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    monkeypatch.setenv("STOQ_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("STOQ_BASE_URL", live.base_url)
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(path))
    return path


def job_row(path, job_id: str) -> dict | None:
    with duckdb.connect(str(path)) as conn:
        return jobs.get_job(conn, job_id)


def test_jobs_poll_writes_the_job_row(live, db, capsys):
    with StoqClient(DEFAULT_API_KEY, live.base_url) as client:
        handle = client.bulk_variant_action("bulk_sync_metafields")
    assert main(["jobs", "poll", handle.status_url, "--interval", "0.01"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"job {handle.job_id}: completed")
    row = job_row(db, handle.job_id)
    assert row is not None and row["kind"] == "adhoc"
    assert row["status_url"] == handle.status_url
    assert row["last_status"] == "completed" and jobs.is_finished(row)


def test_jobs_poll_records_a_failure(live, db, capsys):
    with StoqClient(DEFAULT_API_KEY, live.base_url) as client:
        handle = client.bulk_variant_action("bulk_reset_metafields")
    live.shop.force_job_status(handle.job_id, "failed", error="shopify throttled")
    assert main(["jobs", "poll", handle.status_url]) == 1
    assert "failed: shopify throttled" in capsys.readouterr().err
    row = job_row(db, handle.job_id)
    assert row is not None and row["last_status"] == "failed"
    assert "shopify throttled" in row["error"]


def test_jobs_poll_keeps_a_saved_jobs_kind_and_batch(live, db, capsys):
    with StoqClient(DEFAULT_API_KEY, live.base_url) as client, duckdb.connect(str(db)) as conn:
        schema.apply(conn)
        handle = submit_variant_job(client, conn, "bulk_recalculate_preorder_counts")
        saved = jobs.get_job(conn, handle.job_id)
    assert main(["jobs", "poll", handle.status_url, "--interval", "0.01"]) == 0
    row = job_row(db, handle.job_id)
    assert row is not None and saved is not None
    assert (row["kind"], row["batch_key"]) == ("bulk_variants", saved["batch_key"])
    assert row["last_status"] == "completed"


def test_track_status_url_records_each_status_in_process(tmp_path):
    shop = Shop(SandboxConfig(rate_limit_points=1_000_000, orders=5, job_steps=3))
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    schema.apply(conn)
    seen: list[str] = []
    with StoqClient(DEFAULT_API_KEY, BASE_URL, transport=mock_transport(shop)) as client:
        handle = client.bulk_variant_action("bulk_sync_metafields")
        final = track_status_url(
            client, conn, handle.status_url, initial_interval=0.01,
            on_status=lambda s: seen.append(s.status),
        )  # fmt: skip
    assert final.status == "completed" and seen[-1] == "completed" and len(seen) >= 2
    row = jobs.get_job(conn, handle.job_id)
    assert row is not None and row["last_status"] == "completed"
    conn.close()


def test_describe_job_error_names_what_went_wrong():
    handle = JobHandle("j1", "/jobs/j1")
    text, meta = describe_job_error(handle, errors.JobNotFound("job at /jobs/j1 is unknown"))
    assert text.startswith("STOQ job j1 not found (404)")
    assert meta == {"job_id": "j1", "status_url": "/jobs/j1"}
    text, _ = describe_job_error(handle, errors.JobTimeout("stalled at 10% for 120 s"))
    assert text == (
        "STOQ job j1 timed out: stalled at 10% for 120 s (it may still run; re-run to re-attach)"
    )
