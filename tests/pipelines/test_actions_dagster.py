"""The holds and the waits in Dagster: run config fields of release_orders / collect_balances,
the sensor policy's hold in its run config, and the op's summary instead of "nothing to do"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from pipelines.ops.balances import collect_balances
from pipelines.ops.release import release_orders
from pipelines.resources import StoqResource, WarehouseResource
from pipelines.sensors import ReleasePolicy, build_releasable_orders_sensor
from preorders.actions.explain import at
from sandbox import DEFAULT_API_KEY
from tests.pipelines.test_release_support import make_world
from tests.preorders.ledger_rows import lost_submission, planned

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
NOWHERE = "http://127.0.0.1:9/api/v2/external"  # a dry run sends nothing


@pytest.fixture
def instance(dagster_home) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test(temp_dir=str(dagster_home)) as inst:
        yield inst


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.delenv("PREORDERS_UNKNOWN_SUBMISSION_HOLD_S", raising=False)
    monkeypatch.delenv("PREORDERS_CHARGE_PENDING_HOLD_S", raising=False)
    w = make_world(tmp_path, orders=60)
    yield w
    w.close()


def run(job: dg.JobDefinition, op: str, world, instance, config) -> dg.ExecuteInProcessResult:
    world.detach()
    try:
        return job.execute_in_process(
            run_config={**QUIET, "ops": {op: {"config": config}}},
            resources={
                "stoq": StoqResource(api_key=DEFAULT_API_KEY, base_url=NOWHERE),
                "warehouse": WarehouseResource(database=str(world.path)),
            },
            instance=instance,
            raise_on_error=False,
        )
    finally:
        world.attach()


def field(job: dg.JobDefinition, op: str, name: str):
    ops = job.run_config_schema.config_type.fields["ops"].config_type
    return ops.fields[op].config_type.fields["config"].config_type.fields[name]


@pytest.mark.parametrize(
    ("job", "op", "name", "env"),
    [
        (release_orders, "release_held_orders", "unknown_submission_hold_s",
         "PREORDERS_UNKNOWN_SUBMISSION_HOLD_S"),
        (collect_balances, "charge_balances", "charge_pending_hold_s",
         "PREORDERS_CHARGE_PENDING_HOLD_S"),
    ],
)  # fmt: skip
def test_each_job_has_its_hold_defaulting_to_the_environment(job, op, name, env) -> None:
    hold = field(job, op, name)
    assert not hold.is_required
    assert env in hold.description and "3600" in hold.description


def test_a_bad_hold_in_run_config_fails_the_run_naming_the_field(world, instance) -> None:
    config = {"unknown_submission_hold_s": -1.0}
    result = run(release_orders, "release_held_orders", world, instance, config)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert "run config unknown_submission_hold_s must be a number of seconds >= 0" in message


def test_a_dry_run_logs_and_records_what_still_waits(world, instance) -> None:
    (item,) = planned(world.conn)
    sent_at = lost_submission(world.conn, [item])
    config = {"dry_run": True, "order_ids": [item.order_id], "unknown_submission_hold_s": 7200.0}
    result = run(release_orders, "release_held_orders", world, instance, config)
    assert result.success
    (materialized,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    summary = materialized.step_output_data.metadata["summary"].value
    until = at(sent_at + timedelta(hours=2), datetime.now(UTC))  # the run config's hold
    assert summary == f"1 skipped; 1 order waits until {until} (bulk submission outcome unknown)"
    logged = [r.user_message for r in instance.all_logs(result.run_id) if r.user_message]
    assert summary in logged and "nothing to do" not in logged


@pytest.mark.parametrize("hold", [None, 120.0])
def test_the_sensor_passes_its_policy_hold_to_the_run(world, instance, hold) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key="orders", partition="default")
    )
    sensor = build_releasable_orders_sensor(ReleasePolicy(unknown_submission_hold_s=hold))
    world.detach()
    try:
        context = dg.build_sensor_context(
            instance=instance, resources={"warehouse": WarehouseResource(database=str(world.path))}
        )
        result = sensor(context)
    finally:
        world.attach()
    (request,) = result.run_requests
    config = request.run_config["ops"]["release_held_orders"]["config"]
    assert config.get("unknown_submission_hold_s") == hold
    assert ("unknown_submission_hold_s" in config) is (hold is not None)
