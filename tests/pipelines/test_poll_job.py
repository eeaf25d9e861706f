"""Job tracking: track_job/submit_or_attach on a fake clock, and the `poll_job` Dagster op."""

from __future__ import annotations

import re

import dagster as dg
import duckdb
import pytest

import warehouse.schema
from pipelines.cli_support import ensure_dagster_home
from pipelines.ops.poll_job import attach_job, poll_job
from pipelines.ops.variants import bulk_variant_admin
from pipelines.resources import StoqResource, WarehouseResource
from preorders.jobtracking import batch_key, submit_or_attach, track_job
from sandbox import DEFAULT_API_KEY, FakeClock, SandboxConfig, Shop, mock_transport, serve
from stoq import JobHandle, StoqClient, errors
from warehouse import jobs

BASE_URL = "http://sandbox.test/api/v2/external"
FAST = {"initial_interval": 0.01, "max_interval": 0.05}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_shop(clock):
    def make(**overrides) -> Shop:
        overrides.setdefault("rate_limit_points", 1_000_000)
        overrides.setdefault("orders", 60)
        return Shop(SandboxConfig(**overrides), clock=clock)

    return make


@pytest.fixture
def make_client(clock):
    made: list[StoqClient] = []

    def make(shop: Shop) -> StoqClient:
        client = StoqClient(
            DEFAULT_API_KEY,
            BASE_URL,
            transport=mock_transport(shop),
            sleep=clock.sleep,
            clock=clock.monotonic,
            wall_clock=clock.time,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "warehouse.duckdb")


@pytest.fixture
def conn(db_path):
    with duckdb.connect(db_path) as c:
        warehouse.schema.apply(c)
        yield c


# -- track_job ---------------------------------------------------------------------------------


def test_tracks_a_bulk_job_to_completed_recording_every_poll(make_shop, make_client, conn):
    shop = make_shop(job_steps=3)
    client = make_client(shop)
    handle = client.bulk_variant_action("bulk_sync_metafields")
    seen = []
    final = track_job(client, conn, handle, kind="bulk_variants", on_status=seen.append)
    assert final.status == "completed"
    assert [s.status for s in seen] == ["running", "running", "completed"]
    row = jobs.get_job(conn, handle.job_id)
    assert (row["kind"], row["last_status"], row["last_progress"]) == (
        "bulk_variants",
        "completed",
        100,
    )
    assert row["item_count"] == handle.item_count and row["finished_at"] is not None


def test_tracks_an_export_to_ready_with_its_download_url(make_shop, make_client, conn):
    shop = make_shop(job_steps=2)
    client = make_client(shop)
    handle = client.start_export("summary")
    final = track_job(client, conn, handle, kind="export", batch_key="export:summary")
    assert final.status == "ready"
    row = jobs.find_job(conn, "export:summary")
    assert row["last_status"] == "ready"
    assert (
        row["download_url"] == final.download_url and "/_sandbox/downloads/" in row["download_url"]
    )


@pytest.mark.parametrize(
    ("forced", "error", "raised"),
    [("failed", "metafield API down", errors.JobFailed), ("cancelled", None, errors.JobCancelled)],
)
def test_failed_and_cancelled_are_recorded_then_raised(
    make_shop, make_client, conn, forced, error, raised
):
    shop = make_shop(job_steps=50)
    client = make_client(shop)
    handle = client.bulk_variant_action("bulk_reset_metafields")
    shop.force_job_status(handle.job_id, forced, error=error)
    with pytest.raises(raised):
        track_job(client, conn, handle, kind="bulk_variants")
    row = jobs.get_job(conn, handle.job_id)
    assert row["last_status"] == forced and row["finished_at"] is not None
    assert row["error"] == error


def test_overall_timeout_leaves_the_job_open_for_reattach(make_shop, make_client, conn, clock):
    shop = make_shop(job_steps=1_000_000)
    client = make_client(shop)
    handle = client.start_export("customers")
    with pytest.raises(errors.JobTimeout, match="still running after 30s"):
        track_job(client, conn, handle, timeout=30, stall_timeout=1_000, kind="export")
    row = jobs.get_job(conn, handle.job_id)
    assert row["last_status"] == "running" and "still running" in row["error"]
    assert [r["job_id"] for r in jobs.open_jobs(conn)] == [handle.job_id]
    assert clock.monotonic() == pytest.approx(30)


def test_stall_is_a_timeout_naming_the_stall(make_shop, make_client, conn):
    shop = make_shop(job_steps=1_000_000)
    client = make_client(shop)
    handle = client.bulk_variant_action("bulk_sync_metafields")  # progress sticks at 1 item
    with pytest.raises(errors.JobTimeout, match="stalled"):
        track_job(client, conn, handle, timeout=10_000, stall_timeout=20)
    assert "stalled" in jobs.get_job(conn, handle.job_id)["error"]


def test_404_after_expiry_is_recorded_as_not_found(make_shop, make_client, conn, clock):
    shop = make_shop(job_steps=0, job_ttl_seconds=60)
    client = make_client(shop)
    handle = client.bulk_variant_action("bulk_recalculate_preorder_counts")
    clock.advance(61)
    with pytest.raises(errors.JobNotFound):
        track_job(client, conn, handle, kind="bulk_variants")
    row = jobs.get_job(conn, handle.job_id)
    assert row["last_status"] == "not_found" and row["finished_at"] is not None
    assert "unknown or expired" in row["error"]


# -- submit_or_attach --------------------------------------------------------------------------


def test_restart_after_a_crash_reattaches_without_a_second_post(make_shop, make_client, db_path):
    shop = make_shop(job_steps=4)
    key = batch_key("bulk_variants", action="bulk_sync_metafields", variant_ids=None)

    def submit_with(client):
        return lambda: client.bulk_variant_action("bulk_sync_metafields")

    with duckdb.connect(db_path) as conn:  # first run: submit, persist, "crash" before polling
        warehouse.schema.apply(conn)
        first = submit_or_attach(
            make_client(shop), conn, key, submit_with(make_client(shop)), "bulk_variants"
        )
    with duckdb.connect(db_path) as conn:  # restarted run, fresh client and connection
        client = make_client(shop)
        second = submit_or_attach(
            client, conn, key, submit_with(client), "bulk_variants", run_id="r2"
        )
        assert second.job_id == first.job_id and second.status_url == first.status_url
        assert track_job(client, conn, second).status == "completed"
        assert jobs.get_job(conn, first.job_id)["dagster_run_id"] == "r2"
    assert shop.count_requests("POST") == 1


def test_an_expired_persisted_job_is_submitted_again(make_shop, make_client, conn, clock):
    shop = make_shop(job_steps=0, job_ttl_seconds=5)
    client = make_client(shop)
    submit = lambda: client.start_export("summary")  # noqa: E731
    first = submit_or_attach(client, conn, "k", submit, "export")
    clock.advance(10)
    second = submit_or_attach(client, conn, "k", submit, "export")
    assert second.job_id != first.job_id
    assert jobs.get_job(conn, first.job_id)["last_status"] == "not_found"
    assert shop.count_requests("POST") == 2


def test_a_finished_job_does_not_block_a_new_submission(make_shop, make_client, conn):
    shop = make_shop(job_steps=1)
    client = make_client(shop)
    submit = lambda: client.start_export("summary")  # noqa: E731
    first = submit_or_attach(client, conn, "k", submit, "export")
    track_job(client, conn, first)
    assert submit_or_attach(client, conn, "k", submit, "export").job_id != first.job_id


def test_a_batch_key_of_another_kind_is_refused(make_shop, make_client, conn):
    client = make_client(make_shop(job_steps=3))
    submit_or_attach(client, conn, "k", lambda: client.start_export("summary"), "export")
    with pytest.raises(ValueError, match="belongs to a export job"):
        submit_or_attach(client, conn, "k", lambda: client.start_export("summary"), "bulk")


def test_batch_key_is_deterministic():
    assert batch_key("export", b=1, a=[2]) == batch_key("export", a=[2], b=1)
    assert batch_key("export", a=1) != batch_key("export", a=2)


# -- the poll_job op ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def dagster_home(tmp_path, monkeypatch):
    home = ensure_dagster_home(tmp_path / "dagster_home")
    monkeypatch.setenv("DAGSTER_HOME", str(home))


@pytest.fixture
def live():
    """A loopback sandbox (StoqResource builds its own client), real clock, no rate pressure."""
    shop = Shop(SandboxConfig(rate_limit_points=1_000_000, orders=60, job_steps=3))
    with serve(shop) as running:
        yield running


@dg.job
def poll_only():
    handle, shop = attach_job()
    poll_job(handle, shop)


ATTACH = ("kind", "batch_key")


def run_poll(live, db_path, handle, instance=None, **config):
    resources = {
        "stoq": StoqResource(api_key=DEFAULT_API_KEY, base_url=live.base_url),
        "warehouse": WarehouseResource(database=db_path),
    }
    named = {"job_id": handle.job_id, "status_url": handle.status_url}
    named |= {k: v for k, v in config.items() if k in ATTACH}
    patience = FAST | {k: v for k, v in config.items() if k not in ATTACH}
    return poll_only.execute_in_process(
        run_config={"ops": {"attach_job": {"config": named}, "poll_job": {"config": patience}}},
        resources=resources,
        raise_on_error=False,
        instance=instance,
    )


def submit_live(live, action="bulk_sync_metafields"):
    with StoqClient(DEFAULT_API_KEY, live.base_url) as client:
        return client.bulk_variant_action(action)


def failure_text(result) -> str:
    (event,) = result.get_step_failure_events()
    return event.step_failure_data.user_failure_data.description


def saved(db_path, job_id):
    with duckdb.connect(db_path) as conn:
        return jobs.get_job(conn, job_id)


def test_op_polls_a_configured_job_to_completed_and_persists_it(live, db_path):
    handle = submit_live(live)
    result = run_poll(live, db_path, handle, kind="bulk_variants", batch_key="b1")
    assert result.success
    assert result.output_for_node("poll_job").status == "completed"
    row = saved(db_path, handle.job_id)
    assert (row["last_status"], row["kind"], row["batch_key"]) == (
        "completed",
        "bulk_variants",
        "b1",
    )
    assert row["dagster_run_id"] == result.run_id


@pytest.mark.parametrize(
    ("forced", "expected"),
    [("failed", "failed: quota exceeded"), ("cancelled", "was cancelled by an operator")],
)
def test_op_fails_clearly_on_failed_and_cancelled(live, db_path, forced, expected):
    handle = submit_live(live)
    live.shop.force_job_status(handle.job_id, forced, error="quota exceeded")
    result = run_poll(live, db_path, handle)
    assert not result.success
    assert expected in failure_text(result) and handle.job_id in failure_text(result)
    assert saved(db_path, handle.job_id)["last_status"] == forced


def test_op_logs_the_polling_as_the_cli_prints_it(live, db_path):
    handle = submit_live(live)
    instance = dg.DagsterInstance.get()
    result = run_poll(live, db_path, handle, instance=instance)
    assert result.success
    lines = [e.user_message for e in instance.all_logs(result.run_id) if e.dagster_event is None]
    job = f"job {handle.job_id}"
    assert f"{job}: started" in lines, lines
    assert any(re.fullmatch(rf"{job}: (queued|running|completed) \d+%.*", x) for x in lines)
    ended = [x for x in lines if x.startswith(f"{job}: done in ")]
    assert len(ended) == 1 and ended[0].endswith("(status completed)"), lines


def test_op_fails_clearly_on_a_404(live, db_path):
    result = run_poll(live, db_path, _unknown_handle())
    assert not result.success
    assert "not found (404)" in failure_text(result)
    assert saved(db_path, "bulk_sync_metafields_0000")["last_status"] == "not_found"


def _unknown_handle():
    path = "/api/v2/external/preorders/product_variants/jobs/bulk_sync_metafields_0000"
    return JobHandle("bulk_sync_metafields_0000", path)


def test_op_times_out_and_stalls_with_distinct_messages(db_path):
    shop = Shop(SandboxConfig(rate_limit_points=1_000_000, orders=60, job_steps=1_000_000))
    with serve(shop) as slow:
        stalled = run_poll(slow, db_path, submit_live(slow), timeout=30, stall_timeout=0.2)
        assert "timed out" in failure_text(stalled) and "stalled" in failure_text(stalled)
        with StoqClient(DEFAULT_API_KEY, slow.base_url) as client:
            running = client.start_export("customers")
        late = run_poll(slow, db_path, running, timeout=0.2, stall_timeout=30, max_interval=0.01)
        assert "still running after" in failure_text(late)


def test_attaching_without_a_job_says_what_it_needs(live, db_path):
    resources = {
        "stoq": StoqResource(api_key=DEFAULT_API_KEY, base_url=live.base_url),
        "warehouse": WarehouseResource(database=db_path),
    }
    with pytest.raises(dg.DagsterInvalidConfigError, match="job_id"):
        poll_only.execute_in_process(resources=resources, raise_on_error=False)
    result = run_poll(live, db_path, JobHandle("", ""))
    assert "needs both job_id and status_url" in failure_text(result)
    assert live.shop.count_requests() == 0


def test_an_attached_job_already_saved_keeps_its_kind_and_key(live, db_path):
    handle = submit_live(live)
    with duckdb.connect(db_path) as conn:
        warehouse.schema.apply(conn)
        jobs.save_job(conn, handle, kind="bulk_variants", batch_key="kept")
    result = run_poll(live, db_path, handle, kind="other", batch_key="ignored")
    assert result.success
    row = saved(db_path, handle.job_id)
    assert (row["kind"], row["batch_key"], row["dagster_run_id"]) == (
        "bulk_variants",
        "kept",
        result.run_id,
    )


def test_poll_job_config_is_only_patience():
    fields = set(poll_job.config_schema.config_type.fields)
    assert fields == {"timeout", "stall_timeout", "initial_interval", "max_interval"}
    ops = bulk_variant_admin.run_config_schema.config_type.fields["ops"].config_type.fields
    assert set(ops["poll_job"].config_type.fields["config"].config_type.fields) == fields
    assert set(attach_job.config_schema.config_type.fields) == {
        "job_id",
        "status_url",
        "kind",
        "batch_key",
        "shop",
    }


# -- poll_job fed by an upstream op: bulk_variant_admin ------------------------------------------


def run_variant_job(live, db_path, **config):
    return bulk_variant_admin.execute_in_process(
        run_config={
            "ops": {
                "submit_variant_action": {"config": config},
                "poll_job": {"config": FAST},
            }
        },
        resources={
            "stoq": StoqResource(api_key=DEFAULT_API_KEY, base_url=live.base_url),
            "warehouse": WarehouseResource(database=db_path),
        },
        raise_on_error=False,
    )


def test_bulk_variant_admin_runs_the_job_to_completed(live, db_path):
    variant = next(
        v for v in sorted(live.shop.variants.values(), key=lambda v: v.id) if v.offer_ids
    )
    variant.metafield_preorder_count = 99
    result = run_variant_job(
        live, db_path, action="bulk_reset_metafields", variant_ids=[variant.id, variant.id]
    )
    assert result.success
    assert result.output_for_node("poll_job").status == "completed"
    assert variant.metafield_preorder_count == 0
    with duckdb.connect(db_path) as conn:
        (row,) = conn.execute("select kind, last_status, item_count from jobs").fetchall()
    assert row == ("bulk_variants", "completed", 1)  # duplicate ids are sent once


def test_bulk_variant_admin_refuses_unknown_actions_without_calling(live, db_path):
    result = run_variant_job(live, db_path, action="bulk_delete_everything")
    assert "unknown variant job 'bulk_delete_everything'" in failure_text(result)
    assert live.shop.count_requests() == 0
