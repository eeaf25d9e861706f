"""The Dagster assets with real resources against a sandbox over a loopback socket."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

import sandbox
from assets.checks import ASSET_CHECKS
from assets.resources import StoqResource, WarehouseResource
from assets.sync_assets import offers_assets, orders_assets
from preorders import checks
from preorders.sync_report import SyncReport, incomplete_reason
from tests.assets.helpers import mature
from tests.assets.truth import assert_matches_truth
from tests.hostile import HostileServer, rewrite_json


@pytest.fixture
def served() -> sandbox.RunningSandbox:
    chaos = sandbox.ChaosConfig(error_5xx=0.03, new_orders_during_walk=2, drift_every=5)
    # Enough pages that a full walk clearly outweighs the incremental plan (8 old open orders
    # read one by one, plus the recent window), whatever the 5xx retries add.
    config = sandbox.SandboxConfig(orders=4000, rate_limit_points=100_000, chaos=chaos)
    with sandbox.serve(config) as running:
        mature(running.shop, open_days=14)
        yield running


def materialize(running: sandbox.RunningSandbox, db: Path, mode: str) -> dg.ExecuteInProcessResult:
    resources = {
        "stoq": StoqResource(api_key=sandbox.DEFAULT_API_KEY, base_url=running.base_url),
        "warehouse": WarehouseResource(database=str(db)),
    }
    return dg.materialize(
        [offers_assets, orders_assets, *ASSET_CHECKS],
        resources=resources,
        instance=dg.DagsterInstance.get(),
        run_config={"ops": {"orders_assets": {"config": {"mode": mode}}}},
        partition_key="default",  # the one shop without a shops file
    )


def orders_metadata(result: dg.ExecuteInProcessResult) -> dict:
    for event in result.get_asset_materialization_events():
        if event.materialization.asset_key == dg.AssetKey("orders"):
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError("no orders materialization")


def test_materialize_full_then_incremental_matches_truth(
    served: sandbox.RunningSandbox, tmp_path: Path, dagster_home: Path
) -> None:
    db = tmp_path / "w.duckdb"
    first = materialize(served, db, "auto")
    assert first.success
    meta = orders_metadata(first)
    assert meta["mode"] == "full" and meta["rows_inserted"] >= 4000
    for key in ("rows_updated", "rows_unchanged", "rows_rejected", "pages", "requests", "drift"):
        assert key in meta
    assert all(e.passed for e in first.get_asset_check_evaluations())
    served.shop.mutate(new_orders=12, pay_balances=8, release=4, cancel=2, refund=2, fulfill=3)
    served.shop.set_chaos(new_orders_during_walk=0)
    second = materialize(served, db, "incremental")
    assert second.success
    incr = orders_metadata(second)
    print(f"\nDagster over loopback: full {meta['requests']} requests, "
          f"incremental {incr['requests']} requests")  # fmt: skip
    assert incr["mode"] == "incremental" and incr["requests"] * 3 <= meta["requests"]
    evaluations = {e.check_name: e.passed for e in second.get_asset_check_evaluations()}
    assert evaluations and all(evaluations.values()), evaluations
    with duckdb.connect(str(db)) as conn:
        assert_matches_truth(conn, served.shop, stale_terminal_ok=True)


def test_a_walk_that_saw_part_of_the_orders_fails_its_blocking_check(
    tmp_path: Path, dagster_home: Path
) -> None:
    def one_page(ex, payload):  # every page after the first comes back empty
        if ex.query.get("page", "1") != "1":
            payload["orders"] = []
        return payload

    shop = sandbox.Shop(sandbox.SandboxConfig(orders=300, rate_limit_points=1_000_000))
    with HostileServer(shop, rewrite_json("/preorders/orders", one_page)) as server:
        result = dg.materialize(
            [orders_assets],
            resources={
                "stoq": StoqResource(api_key=sandbox.DEFAULT_API_KEY, base_url=server.base_url),
                "warehouse": WarehouseResource(database=str(tmp_path / "w.duckdb")),
            },
            instance=dg.DagsterInstance.get(),
            raise_on_error=False,
        )
    assert not result.success  # the blocking ERROR check fails the step
    (check,) = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert check.check_name == "orders_sync_complete"
    assert check.severity == dg.AssetCheckSeverity.ERROR and check.blocking
    assert "sync incomplete" in check.metadata["reason"].value


def test_incomplete_reason_names_what_was_seen_and_what_was_kept() -> None:
    report = SyncReport("orders", "full", "r1", records=50, complete=False, total_count=2000)
    assert incomplete_reason(report) == (
        "sync incomplete: saw 50 of 2,000 orders the API counts; the high-water mark was not moved"
    )
    rejected = SyncReport("offers", "full", "r1", records=3, counts={"rejected": 3})
    assert "every one of the 3 offers read was rejected" in incomplete_reason(rejected)
    assert incomplete_reason(SyncReport("orders", "full", "r1", records=3)) is None


def test_each_asset_check_wires_one_core_check_with_its_blocking_flag() -> None:
    specs = {spec.key.name: spec for check in ASSET_CHECKS for spec in check.check_specs}
    assert {name: spec.blocking for name, spec in specs.items()} == {
        spec.name: spec.blocking for spec in checks.CHECKS
    }
    assert {name: spec.asset_key.to_user_string() for name, spec in specs.items()} == {
        spec.name: spec.asset for spec in checks.CHECKS
    }
