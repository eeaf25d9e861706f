"""review_actions and settle_action: the ledger from Dagster, through the same core as the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import defs
from pipelines.ops.ledger import review_actions, settle_action
from pipelines.resources import WarehouseResource
from tests.pipelines.test_release_support import make_world
from tests.preorders.ledger_rows import lost_submission, planned

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@pytest.fixture
def instance(dagster_home) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test(temp_dir=str(dagster_home)) as inst:
        yield inst


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path, orders=60)
    yield w
    w.close()


def run(job, op, config, path, instance, tags=None) -> dg.ExecuteInProcessResult:
    return job.execute_in_process(
        run_config={**QUIET, "ops": {op: {"config": config}}},
        resources={"warehouse": WarehouseResource(database=str(path))},
        instance=instance,
        raise_on_error=False,
        tags=tags,
    )


def metadata(result: dg.ExecuteInProcessResult, op: str) -> dict:
    [event] = [e for e in result.events_for_node(op) if e.event_type_value == "STEP_OUTPUT"]
    return event.step_output_data.metadata


def test_both_jobs_are_in_the_code_location():
    assert defs.resolve_job_def("review_actions").name == "review_actions"
    assert defs.resolve_job_def("settle_action").name == "settle_action"


def test_review_lists_rows_by_status_with_why(world, instance):
    [item] = planned(world.conn, n=1)
    lost_submission(world.conn, [item], ago=timedelta(minutes=5))
    world.detach()
    result = run(review_actions, "review_ledger", {}, world.path, instance)
    assert result.success
    meta = metadata(result, "review_ledger")
    assert meta["unknown"].value == 1 and meta["open"].value == 0
    assert item.key in meta["rows"].value
    assert "bulk submission outcome unknown" in meta["rows"].value


def test_settle_not_applied_records_who_and_why(world, instance):
    [item] = planned(world.conn, n=1)
    lost_submission(world.conn, [item], ago=timedelta(hours=2))
    world.detach()
    config = {"key": item.key, "verdict": "not_applied", "reason": "not in STOQ admin"}
    result = run(settle_action, "settle_ledger_row", config, world.path, instance,
                 tags={"dagster/user": "ana@example.com"})  # fmt: skip
    assert result.success
    with duckdb.connect(str(world.path)) as conn:
        row = conn.execute(
            "select status, settled_by, settle_reason from order_actions where key = ?",
            [item.key],
        ).fetchone()
    assert row == ("failed", "ana@example.com", "not in STOQ admin")


def test_settle_refusals_fail_the_run_and_change_nothing(world, instance):
    world.detach()
    config = {"key": "no-such-key", "verdict": "applied", "reason": "x"}
    result = run(settle_action, "settle_ledger_row", config, world.path, instance)
    assert not result.success
    failure = result.failure_data_for_node("settle_ledger_row")
    assert "no ledger row has the key no-such-key" in failure.error.message
    blank = {"key": "k", "verdict": "applied", "reason": "   "}
    result = run(settle_action, "settle_ledger_row", blank, world.path, instance)
    assert "a reason is required" in result.failure_data_for_node("settle_ledger_row").error.message


def test_an_unsynced_warehouse_is_refused(tmp_path, instance):
    import warehouse

    path = tmp_path / "empty.duckdb"
    with duckdb.connect(str(path)) as conn:
        warehouse.schema.apply(conn)
    result = run(review_actions, "review_ledger", {}, path, instance)
    assert not result.success
    assert str(path) in result.failure_data_for_node("review_ledger").error.message


def test_an_unknown_status_fails_naming_the_choices(world, instance):
    world.detach()
    result = run(review_actions, "review_ledger", {"statuses": ["pending"]}, world.path, instance)
    assert not result.success
    assert "open, sent, unknown, failed, blocked" in (
        result.failure_data_for_node("review_ledger").error.message
    )
