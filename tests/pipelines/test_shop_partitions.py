"""The code location per shop: partitions from the shops file, one scheduled run and one sensor
request per shop, every run tagged `stoq/shop`, and the instance letting one run per shop go."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

import sandbox
import warehouse.schema
from assets.shops import SHOP_TAG, shop_partitions
from pipelines.cli_support import ensure_dagster_home
from pipelines.jobs import build_sync_job
from pipelines.ops.release import release_orders
from pipelines.resources import StoqResource, WarehouseResource
from pipelines.schedules import build_hourly_sync_schedule
from pipelines.sensors import Cursor, ReleasePolicy, build_releasable_orders_sensor
from preorders.sync import sync_offers, sync_orders
from stoq import StoqClient
from tests.pipelines.cli_helpers import ROOT
from warehouse import ledger

KEYS = {"a": "STOQ_API_KEY_A", "b": "STOQ_API_KEY_B"}
SANDBOX = {"a": "shop1", "b": "shop2"}
OP = "release_held_orders"
SHOP_LIMIT = {"key": SHOP_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}

LOAD = """
import json
import dagster as dg
from assets.checks import ASSET_CHECKS
from pipelines.definitions import defs

dg.Definitions.validate_loadable(defs)
graph = defs.resolve_asset_graph()
keys = lambda p: None if p is None else p.get_partition_keys()
print(json.dumps({
    "job": keys(defs.resolve_job_def("sync_preorders").partitions_def),
    "orders": keys(graph.get(dg.AssetKey("orders")).partitions_def),
    "checks": sorted({str(keys(s.partitions_def)) for c in ASSET_CHECKS for s in c.check_specs}),
    "report": keys(graph.get(dg.AssetKey("backlog_report")).partitions_def),
    "api_key": type(defs.resources["stoq"].api_key).__name__,
}))
"""


def write_shops_file(path: Path, base_url: str = "https://app.stoqapp.com/api/v2/external") -> Path:
    lines = ["shops:"]
    for name, env in KEYS.items():
        lines += [f"  - name: {name}", f"    api_key_env: {env}", f"    base_url: {base_url}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def location_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh code-location process: no key at all, unless given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOQ_", "PREORDERS_"))}
    env["DAGSTER_HOME"] = str(ensure_dagster_home(tmp_path / "home"))
    return env | extra


def load(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", LOAD], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def validate(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`dagster definitions validate` of the code location, as a deployment loads it."""
    command = [sys.executable, "-m", "dagster", "definitions", "validate"]
    command += ["-m", "pipelines.definitions"]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)


# -- loading the code location -------------------------------------------------------------------


def test_without_a_shops_file_one_partition_default_and_the_key_through_envvar(tmp_path):
    loaded = load(location_env(tmp_path))
    assert loaded["job"] == loaded["orders"] == ["default"]
    assert loaded["checks"] == [str(["default"])]
    assert loaded["report"] is None  # one report of every shop
    assert loaded["api_key"] == "EnvVar"


def test_a_shops_file_gives_one_partition_per_shop_and_loads_without_any_key(tmp_path):
    env = location_env(tmp_path, PREORDERS_SHOPS=str(write_shops_file(tmp_path / "s.yaml")))
    loaded = load(env)
    assert loaded["job"] == loaded["orders"] == ["a", "b"]
    assert loaded["checks"] == [str(["a", "b"])]
    assert loaded["api_key"] == "NoneType"  # each run reads its shop's own variable
    done = validate(env)
    assert done.returncode == 0, done.stderr


def test_a_bad_shops_file_fails_the_load_with_its_own_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "shops:\n  - name: a\n    api_key_env: STOQ_API_KEY_A\n"
        "  - name: a\n    api_key_env: STOQ_API_KEY_B\n"
    )
    done = validate(location_env(tmp_path, PREORDERS_SHOPS=str(bad)))
    assert done.returncode != 0
    message = f"shops file {bad} (PREORDERS_SHOPS): shop 'a' (#2): duplicate name 'a'"
    assert message in done.stdout + done.stderr


# -- the schedule and the sync job ---------------------------------------------------------------


@pytest.fixture
def shops_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_shops_file(tmp_path / "shops.yaml")
    monkeypatch.setenv("PREORDERS_SHOPS", str(path))
    return path


def sync_defs() -> dg.Definitions:
    """The sync job and the hourly schedule over the shops file's partitions."""
    from assets.report import backlog_report
    from assets.sync_assets import build_sync_assets

    partitions = shop_partitions()
    job = build_sync_job(partitions)
    return dg.Definitions(
        assets=[*build_sync_assets(partitions), backlog_report],
        jobs=[job],
        schedules=[build_hourly_sync_schedule(job, partitions)],
        resources={"stoq": StoqResource(), "warehouse": WarehouseResource()},
    )


def test_the_hourly_schedule_requests_one_run_per_shop(shops_file) -> None:
    repo = sync_defs().get_repository_def()
    schedule = repo.get_schedule_def("hourly_sync_schedule")
    tick = datetime(2026, 3, 1, 10, 7, tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=tick, repository_def=repo)
    requests = schedule.evaluate_tick(context).run_requests or []
    assert [r.partition_key for r in requests] == ["a", "b"]
    for request in requests:
        shop = request.partition_key
        assert request.run_key == f"{tick.isoformat()}:{shop}"
        assert request.tags[SHOP_TAG] == shop
    assert len({r.run_key for r in requests}) == 2
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_a_sync_run_launched_as_a_partition_carries_the_shop_tag(shops_file) -> None:
    job = sync_defs().resolve_job_def("sync_preorders")
    assert job.partitions_def.get_partition_keys() == ["a", "b"]
    # the tags the UI, a backfill and the schedule give a run of partition b
    assert job.get_tags_for_partition_key("b", None)[SHOP_TAG] == "b"


# -- the instance: one run per shop --------------------------------------------------------------


def test_the_dagster_yaml_limits_runs_per_shop_tag_and_dagster_accepts_it(tmp_path) -> None:
    home = ensure_dagster_home(tmp_path / "home")  # what the CLI writes into a new home
    written = yaml.safe_load((home / "dagster.yaml").read_text())
    assert written["concurrency"]["runs"]["tag_concurrency_limits"] == [SHOP_LIMIT]
    with dg.DagsterInstance.from_config(str(home)) as instance:  # Dagster's own validation
        config = instance.get_concurrency_config()
        assert config.run_queue_config.tag_concurrency_limits == [SHOP_LIMIT]
        assert config.pool_config.default_pool_limit == 1


def test_dagsters_validation_would_reject_a_malformed_tag_limit(tmp_path) -> None:
    """The control: the same validation refuses a limit whose value is not the schema's."""
    home = tmp_path / "bad_home"
    home.mkdir()
    text = (ROOT / "pipelines" / "dagster.yaml").read_text()
    (home / "dagster.yaml").write_text(text.replace("applyLimitPerUniqueValue", "perValue"))
    with pytest.raises(dg.DagsterInvalidConfigError), dg.DagsterInstance.from_config(str(home)):
        pass


# -- the release sensor and the release op, two shops in one warehouse --------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[sandbox.RunningSandbox]:
    config = sandbox.SandboxConfig(orders=80, rate_limit_points=1_000_000)
    with sandbox.serve(sandbox.Shops.seeded(2, config, same_ids=True)) as running:
        yield running


@pytest.fixture
def two_shop_warehouse(
    served: sandbox.RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Shops a and b (the same order ids, other states) synced into one DuckDB file."""
    monkeypatch.setenv(
        "PREORDERS_SHOPS", str(write_shops_file(tmp_path / "shops.yaml", served.base_url))
    )
    monkeypatch.delenv("STOQ_API_KEY", raising=False)
    for name, env in KEYS.items():
        monkeypatch.setenv(env, served.shops.key(SANDBOX[name]))
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as conn:
        warehouse.schema.apply(conn)
        for name in KEYS:
            with StoqClient(served.shops.key(SANDBOX[name]), served.base_url) as client:
                sync_offers(client, conn, run_id=f"{name}-1", shop=name)
                sync_orders(client, conn, run_id=f"{name}-1", mode="full", shop=name)
    return db


def releasable(db: Path, shop: str) -> list[int]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return [c.order_id for c in ledger.releasable(conn, shop=shop)]


def synced(instance: dg.DagsterInstance, shop: str) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key="orders", partition=shop))


def tick(sensor, instance, db: Path, cursor: str | None = None):
    resources = {"warehouse": WarehouseResource(database=str(db))}
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    return sensor(context)


POLICY = ReleasePolicy(max_orders_per_tick=1000, max_share=1.0)


def test_the_sensor_requests_one_run_per_shop_with_that_shops_orders_only(
    two_shop_warehouse: Path, dagster_home: Path
) -> None:
    db = two_shop_warehouse
    plans = {shop: releasable(db, shop) for shop in KEYS}
    assert plans["a"] and plans["b"] and plans["a"] != plans["b"]  # a pairing would show
    sensor = build_releasable_orders_sensor(POLICY)
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        synced(instance, "a")
        synced(instance, "b")
        first = tick(sensor, instance, db)
        requests = {r.tags[SHOP_TAG]: r for r in first.run_requests}
        assert set(requests) == {"a", "b"}
        for shop, request in requests.items():
            config = request.run_config["ops"][OP]["config"]
            assert config["shop"] == shop
            assert request.run_key.startswith(f"release-{shop}-")
            assert config["order_ids"] == plans[shop]  # this shop's releasable orders, no other's
            dg.validate_run_config(release_orders, request.run_config)
        assert requests["a"].run_key != requests["b"].run_key
        # each shop keeps its own cursor: a new sync of a asks for a's run only
        idle = tick(sensor, instance, db, cursor=first.cursor)
        assert isinstance(idle, dg.SkipReason)
        assert "shop a: no new materialization" in idle.skip_message
        synced(instance, "a")
        again = tick(sensor, instance, db, cursor=first.cursor)
        assert [r.tags[SHOP_TAG] for r in again.run_requests] == ["a"]
        assert Cursor.parse(again.cursor, "b") == Cursor.parse(first.cursor, "b")
        assert Cursor.parse(again.cursor, "a").event != Cursor.parse(first.cursor, "a").event


def test_the_sensor_reads_a_cursor_written_before_shops_as_defaults() -> None:
    old = json.dumps({"event": 7, "more": True})
    assert Cursor.parse(old) == Cursor(7, True)
    assert Cursor.parse(old, "a") == Cursor()


def release_run(db: Path, instance: dg.DagsterInstance, shop: str, **launch):
    return release_orders.execute_in_process(
        run_config={"ops": {OP: {"config": {"shop": shop, "dry_run": True}}}},
        resources={"stoq": StoqResource(), "warehouse": WarehouseResource(database=str(db))},
        instance=instance,
        raise_on_error=False,
        **launch,
    )


def test_a_release_run_names_its_shop_or_fails_naming_the_choices(
    two_shop_warehouse: Path, dagster_home: Path
) -> None:
    db = two_shop_warehouse
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        unnamed = release_run(db, instance, "")
        assert not unnamed.success
        (failure,) = [e for e in unnamed.all_events if e.is_step_failure]
        assert "several shops are configured (a, b)" in failure.event_specific_data.error.message
        named = release_run(db, instance, "b")  # launched from the UI: no tag yet
        assert named.success
        assert instance.get_run_by_id(named.run_id).tags[SHOP_TAG] == "b"
        with duckdb.connect(str(db), read_only=True) as conn:
            planned = conn.execute(
                "select distinct shop from order_actions where dagster_run_id = ?", [named.run_id]
            ).fetchall()
        assert planned == [("b",)]
        mismatched = release_run(db, instance, "b", tags={SHOP_TAG: "a"})
        assert not mismatched.success
        (failure,) = [e for e in mismatched.all_events if e.is_step_failure]
        assert "tagged stoq/shop=a but its config names shop 'b'" in (
            failure.event_specific_data.error.message
        )


def test_an_offer_action_goes_to_the_named_shop_with_its_key(
    served: sandbox.RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.ops.offers import manage_offer

    monkeypatch.setenv(
        "PREORDERS_SHOPS", str(write_shops_file(tmp_path / "shops.yaml", served.base_url))
    )
    for name, env in KEYS.items():
        monkeypatch.setenv(env, served.shops.key(SANDBOX[name]))
    shop_b = served.shops[SANDBOX["b"]]
    offer_id = next(o.id for o in shop_b.offers.values() if o.status == "disabled")
    assert offer_id not in served.shops[SANDBOX["a"]].offers  # only b's key can reach it

    def run(shop: str) -> dg.ExecuteInProcessResult:
        config = {"shop": shop, "offer_id": offer_id, "action": "enable"}
        return manage_offer.execute_in_process(
            run_config={"ops": {"apply_offer_action": {"config": config}}},
            resources={"stoq": StoqResource()},
            raise_on_error=False,
        )

    refused = run("a")  # a's key does not see b's offer
    assert not refused.success
    (failure,) = [e for e in refused.all_events if e.is_step_failure]
    assert "not found" in failure.event_specific_data.error.message.lower()
    assert not shop_b.offers[offer_id].enabled
    assert run("b").success
    assert shop_b.offers[offer_id].enabled
