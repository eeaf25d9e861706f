"""backlog_report follows every sync: the sync job renders it, and a CLI sync triggers it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

import sandbox
from assets.report import backlog_report
from pipelines.definitions import backlog_report_sensor, defs
from pipelines.recording import record_events
from tests.assets.helpers import mature
from warehouse import dashboards

REPORT = dg.AssetKey("backlog_report")
ORDERS = dg.AssetKey("orders")


def evaluate(instance: dg.DagsterInstance, cursor=None):
    """One tick of the automation sensor over the code location (as the daemon runs it)."""
    selection = dg.AssetSelection.assets(REPORT)
    return dg.evaluate_automation_conditions(defs, instance, selection, cursor=cursor)


def test_the_report_has_an_eager_condition_and_a_sensor_on_by_default() -> None:
    spec = backlog_report.specs_by_key[REPORT]
    assert spec.automation_condition is not None
    assert spec.automation_condition.get_label() == "eager"
    repo = defs.get_repository_def()
    assert repo.get_sensor_def("backlog_report_sensor") is backlog_report_sensor
    assert backlog_report_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    assert backlog_report_sensor.asset_selection.resolve(graph) == {REPORT}


def test_the_sync_job_renders_the_report_after_orders() -> None:
    job = defs.resolve_job_def("sync_preorders")
    assert REPORT in job.asset_layer.executable_asset_keys
    assert ORDERS in {d.asset_key for d in backlog_report.specs_by_key[REPORT].deps}


@pytest.fixture
def served() -> sandbox.RunningSandbox:
    config = sandbox.SandboxConfig(orders=300, rate_limit_points=100_000, currencies=("USD", "EUR"))
    with sandbox.serve(config) as running:
        mature(running.shop)
        yield running


def test_a_sync_run_materializes_the_report_with_money_per_currency(
    served: sandbox.RunningSandbox,
    tmp_path: Path,
    dagster_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "preorders.duckdb"
    monkeypatch.setenv("STOQ_API_KEY", sandbox.DEFAULT_API_KEY)
    monkeypatch.setenv("STOQ_BASE_URL", served.base_url)
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(db))
    with dg.DagsterInstance.get() as instance:
        before = evaluate(instance)
        job = defs.resolve_job_def("sync_preorders")
        result = job.execute_in_process(instance=instance, partition_key="default")
        assert result.success
        order = [e.asset_key for e in result.get_asset_materialization_events()]
        assert order.index(ORDERS) < order.index(REPORT)
        (mat,) = result.asset_materializations_for_node("backlog_report")
        # The run rendered the report after orders: the sensor has nothing left to request.
        after = evaluate(instance, before.cursor)
        assert after.get_num_requested(REPORT) == 0
    meta = {k: v.value for k, v in mat.metadata.items()}
    assert Path(meta["path"]) == tmp_path / "report" / "backlog.html"
    with duckdb.connect(str(db)) as conn:
        money = dashboards.money_by_currency(conn).to_dict("records")
    assert {row["currency"] for row in money} == {"USD", "EUR"}
    for row in money:
        assert meta[f"outstanding_balance_{row['currency']}"] == pytest.approx(
            row["outstanding_balance"]
        )


def test_a_sync_recorded_from_the_cli_requests_the_report_once() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        first = evaluate(instance)
        assert first.get_num_requested(REPORT) == 0  # orders never synced: nothing to render
        record_events(instance, {"orders": {"mode": "incremental"}}, [])  # `preorders sync`
        after_sync = evaluate(instance, first.cursor)
        assert after_sync.get_num_requested(REPORT) == 1
        instance.report_runless_asset_event(dg.AssetMaterialization(REPORT))  # rendered
        later = evaluate(instance, after_sync.cursor)
        assert later.get_num_requested(REPORT) == 0
