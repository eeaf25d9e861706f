"""A CLI sync records into the Dagster home without a run, and the release sensor wakes on it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import dagster as dg
import pytest

import sandbox
from assets.checks import ASSET_CHECKS
from assets.resources import WarehouseResource
from assets.sync_assets import offers_assets, orders_assets
from pipelines.recording import evaluation, record_sync
from pipelines.sensors import releasable_orders_sensor
from preorders import checks
from preorders.sync import SyncReport
from tests.assets.helpers import mature
from tests.pipelines.cli_helpers import ROOT, cli_env, run_cli

TABLES = ("offers", "offer_variants", "orders", "order_line_items")


@pytest.fixture(scope="module")
def served():
    with sandbox.serve(sandbox.SandboxConfig(orders=120, rate_limit_points=100_000)) as running:
        mature(running.shop)
        yield running


def latest(instance: dg.DagsterInstance, key: str) -> dict:
    (record,) = instance.fetch_materializations(dg.AssetKey(key), limit=1).records
    materialization = record.event_log_entry.asset_materialization
    assert materialization is not None
    return {k: v.value for k, v in materialization.metadata.items()}


def latest_check(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> dg.AssetCheckEvaluation:
    storage = instance.event_log_storage
    record = storage.get_latest_asset_check_execution_by_key([key]).get(key)
    assert record is not None and record.event is not None, key
    return record.event.dagster_event.event_specific_data


def test_a_cli_sync_records_materializations_and_checks_and_wakes_the_sensor(
    served, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    env = cli_env(
        tmp_path,
        STOQ_API_KEY=sandbox.DEFAULT_API_KEY,
        STOQ_BASE_URL=served.base_url,
        PREORDERS_DUCKDB_PATH=str(db),
    )
    done = run_cli(env, "sync", "--full")
    assert done.returncode == 0, done.stderr
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert instance.get_runs() == []  # runless: no run, only asset events
        for table in TABLES:
            meta = latest(instance, table)
            assert meta["mode"] == "full" and meta["complete"] is True
            assert meta["dagster/row_count"] > 0 and meta["requests"] > 0
            assert isinstance(meta["duration_s"], float)
            assert meta["dagster/table_name"] == f"w.main.{table}"  # the file's catalog
            columns = {c.name for c in meta["dagster/column_schema"].columns}
            assert {"offer_id", "shopify_variant_id"} <= columns or "id" in columns
        orders = latest(instance, "orders")
        assert orders["dagster/row_count"] == 120 and "table_rows" not in orders
        assert "customer_email" in {c.name for c in orders["dagster/column_schema"].columns}
        check_keys = {
            *(key for c in ASSET_CHECKS for key in c.check_keys),
            *offers_assets.check_keys,
            *orders_assets.check_keys,
        }
        assert len(check_keys) == 6
        for key in check_keys:
            assert latest_check(instance, key).passed, key

        context = dg.build_sensor_context(
            instance=instance, resources={"warehouse": WarehouseResource(database=str(db))}
        )
        result = releasable_orders_sensor(context)
    assert isinstance(result, dg.SensorResult), result
    assert len(result.run_requests) == 1, result.skip_reason


def test_a_failed_sync_records_a_failed_blocking_check_and_no_orders_materialization(
    tmp_path: Path,
) -> None:
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=20))
    with sandbox.serve(shop) as running:
        env = cli_env(
            tmp_path,
            STOQ_API_KEY=sandbox.DEFAULT_API_KEY + "-wrong",
            STOQ_BASE_URL=running.base_url,
            PREORDERS_DUCKDB_PATH=str(tmp_path / "w.duckdb"),
        )
        done = run_cli(env, "sync")
    assert done.returncode == 1
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert instance.fetch_materializations(dg.AssetKey("orders"), limit=1).records == []
        key = dg.AssetCheckKey(dg.AssetKey("orders"), "orders_sync_complete")
        evaluated = latest_check(instance, key)
    assert not evaluated.passed and evaluated.blocking
    assert "401" in evaluated.metadata["reason"].value


def test_record_sync_writes_what_the_assets_emit(tmp_path: Path) -> None:
    report = SyncReport("orders", "incremental", "r1", records=5, pages=1, requests=2)
    outcome = checks.CheckOutcome(
        "orders_count_matches_api", "orders", False, "WARN", {"live_orders": 4}, blocking=False
    )
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        record_sync(instance, [report], [outcome], rows={"orders": 4, "order_line_items": 9})
        assert latest(instance, "order_line_items")["dagster/row_count"] == 9
        assert latest(instance, "orders")["mode"] == "incremental"
    converted = evaluation(**asdict(outcome))
    assert converted.severity == dg.AssetCheckSeverity.WARN and not converted.blocking
    assert converted.asset_key == dg.AssetKey("orders")


def test_the_helper_process_records_nothing_when_the_sync_hands_it_nothing(tmp_path: Path) -> None:
    env = cli_env(tmp_path)  # its DAGSTER_HOME; a stopped sync closes the helper's stdin unfed
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.recording"],
        input="", env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and done.stderr == "", done.stderr
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert instance.fetch_materializations(dg.AssetKey("orders"), limit=1).records == []


def test_record_sync_records_the_shops_partition(tmp_path: Path) -> None:
    report = SyncReport("orders", "full", "r1", records=5, pages=1, requests=2)
    outcome = checks.CheckOutcome("orders_ids_unique", "orders", True, blocking=True)
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        for _ in range(2):  # a second sync of the shop records again (no unique-index clash)
            record_sync(instance, [report], [outcome], rows={"orders": 5}, shop="b")
        records = instance.fetch_materializations(dg.AssetKey("orders"), limit=5).records
        assert [r.event_log_entry.asset_materialization.partition for r in records] == ["b", "b"]
        key = dg.AssetCheckKey(dg.AssetKey("orders"), "orders_ids_unique")
        assert latest_check(instance, key).metadata["shop"].value == "b"


def test_the_helper_process_records_each_shops_document_in_its_partition(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    documents = [
        {"shop": shop, "materializations": {"orders": {"row_count": n}}, "checks": []}
        for shop, n in (("a", 3), ("b", 4))
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.recording"],
        input=json.dumps(documents), env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        for shop, n in (("a", 3), ("b", 4)):
            found = dg.AssetRecordsFilter(asset_key=dg.AssetKey("orders"), asset_partitions=[shop])
            (record,) = instance.fetch_materializations(found, limit=1).records
            metadata = record.event_log_entry.asset_materialization.metadata
            assert metadata["dagster/row_count"].value == n
