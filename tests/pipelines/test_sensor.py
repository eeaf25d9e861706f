"""releasable_orders_sensor through dg.build_sensor_context on a real DuckDB file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import dagster as dg
import pytest

from pipelines.ops.release import release_orders
from pipelines.resources import WarehouseResource
from pipelines.sensors import (
    Cursor,
    ReleasePolicy,
    build_releasable_orders_sensor,
    releasable_orders_sensor,
)
from preorders import actions
from tests.pipelines.test_release_support import make_world
from warehouse import ledger

OP = "release_held_orders"


@pytest.fixture
def instance(dagster_home) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test(temp_dir=str(dagster_home)) as inst:
        yield inst


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path, orders=120)
    w.detach()
    yield w
    w.attach()
    w.close()


def synced(instance: dg.DagsterInstance, shop: str = "default") -> None:
    """A sync of `shop`'s orders partition, as a run or a recorded CLI sync leaves it."""
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key="orders", partition=shop))


def tick(sensor, instance, world, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"warehouse": WarehouseResource(database=str(world.path))},
    )
    return sensor(context)


def releasable(world) -> list[int]:
    world.attach()
    try:
        return [c.order_id for c in ledger.releasable(world.conn)]
    finally:
        world.detach()


def requested_ids(result) -> list[int]:
    (request,) = result.run_requests
    return request.run_config["ops"][OP]["config"]["order_ids"]


def test_ships_stopped_and_targets_release_orders():
    assert releasable_orders_sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert releasable_orders_sensor.job_name == release_orders.name == "release_orders"


def test_skips_until_orders_is_materialized(instance, world):
    result = tick(releasable_orders_sensor, instance, world)
    assert isinstance(result, dg.SkipReason) and "not been materialized" in result.skip_message


def test_requests_a_deterministic_run_and_keeps_a_cursor(instance, world):
    synced(instance)
    ids = releasable(world)
    first = tick(releasable_orders_sensor, instance, world)
    again = tick(releasable_orders_sensor, instance, world)
    assert requested_ids(first) == ids
    assert first.run_requests[0].run_key == again.run_requests[0].run_key
    assert first.run_requests[0].run_key.startswith("release-")
    config = first.run_requests[0].run_config["ops"][OP]["config"]
    assert config["dry_run"] is False
    cursor = Cursor.parse(first.cursor)
    assert cursor.event is not None and cursor.more is False
    idle = tick(releasable_orders_sensor, instance, world, cursor=first.cursor)
    assert isinstance(idle, dg.SkipReason) and "no new materialization" in idle.skip_message


def test_cap_leaves_work_for_the_next_tick_and_the_ledger_moves_it_on(instance, world):
    synced(instance)
    ids = releasable(world)
    sensor = build_releasable_orders_sensor(ReleasePolicy(max_orders_per_tick=4))
    first = tick(sensor, instance, world)
    assert requested_ids(first) == ids[:4] and Cursor.parse(first.cursor).more
    # Same event, capped: the same plan again (same run_key, deduplicated by Dagster).
    repeat = tick(sensor, instance, world, cursor=first.cursor)
    assert repeat.run_requests[0].run_key == first.run_requests[0].run_key
    world.attach()  # the requested run releases its four orders
    with world.client() as client:
        done = actions.release(client, world.conn, ids[:4])
    world.detach()
    assert {o.status for o in done} == {"succeeded"}
    second = tick(sensor, instance, world, cursor=first.cursor)
    assert requested_ids(second) == ids[4:8]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key


def test_circuit_breaker_refuses_an_implausible_share(instance, world):
    synced(instance)
    sensor = build_releasable_orders_sensor(ReleasePolicy(max_share=0.05, breaker_floor=3))
    result = tick(sensor, instance, world)
    assert result.run_requests in (None, [])
    assert "circuit breaker" in result.skip_reason.skip_message
    assert "limit 3" in result.skip_reason.skip_message
    # The breaker does not re-fire on the same sync; the next sync is evaluated afresh.
    idle = tick(sensor, instance, world, cursor=result.cursor)
    assert "no new materialization" in idle.skip_message


def test_small_shops_pass_the_breaker_through_its_floor(instance, tmp_path, dagster_home):
    small = make_world(tmp_path / "small", orders=6, seed=3)
    small.detach()
    synced(instance)
    n = len(releasable(small))
    assert n >= 1
    sensor = build_releasable_orders_sensor(ReleasePolicy(max_share=0.01, breaker_floor=10))
    assert len(requested_ids(tick(sensor, instance, small))) == n
    small.attach()
    small.close()


def test_dry_run_policy_goes_into_run_config_and_run_key(instance, world):
    synced(instance)
    sensor = build_releasable_orders_sensor(ReleasePolicy(dry_run=True))
    result = tick(sensor, instance, world)
    (request,) = result.run_requests
    assert request.run_config["ops"][OP]["config"]["dry_run"] is True
    assert request.run_key.startswith("release-dry-")


@pytest.mark.parametrize("dry_run", [False, True])
def test_sensor_runs_carry_their_dry_run_explicitly(instance, world, dry_run):
    # A manual launch of release_orders is a dry run by default; the sensor's runs never lean
    # on that default: the policy's setting is in the run config itself.
    synced(instance)
    sensor = build_releasable_orders_sensor(ReleasePolicy(dry_run=dry_run))
    (request,) = tick(sensor, instance, world).run_requests
    assert request.run_config["ops"][OP]["config"]["dry_run"] is dry_run
    assert request.tags["preorders/dry_run"] == str(dry_run)
    resolved = dg.validate_run_config(release_orders, request.run_config)
    assert resolved["ops"][OP]["config"]["dry_run"] is dry_run


def test_nothing_to_do_is_a_skip(instance, world):
    world.attach()
    with world.client() as client:
        actions.release(client, world.conn)
    world.detach()
    synced(instance)
    result = tick(releasable_orders_sensor, instance, world)
    assert result.run_requests in (None, [])
    assert "nothing to release" in result.skip_reason.skip_message


def test_a_locked_warehouse_is_a_skip_not_a_failure(instance, world):
    synced(instance)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
            "sys.stdin.read()",
            str(world.path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        result = tick(releasable_orders_sensor, instance, world)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert isinstance(result, dg.SkipReason)
    assert "warehouse busy" in result.skip_message
    after = tick(releasable_orders_sensor, instance, world)
    assert after.run_requests


def test_a_plan_whose_run_never_sent_is_requested_again_after_the_next_sync(instance, world):
    # A run that fails before sending (a 401, say) gives its claims back: the next sync plans
    # the very same orders and keys, and Dagster never runs a run_key twice, so the key must
    # change with the materialization while the ledger prevents any second send.
    synced(instance)
    first = tick(releasable_orders_sensor, instance, world)
    synced(instance)  # the next sync; nothing was released in between
    second = tick(releasable_orders_sensor, instance, world, cursor=first.cursor)
    assert requested_ids(second) == requested_ids(first)
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    assert Cursor.parse(second.cursor).event != Cursor.parse(first.cursor).event
