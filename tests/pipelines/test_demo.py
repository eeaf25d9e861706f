"""`preorders demo`, then the UI the way it prints: the same shop, warehouse, ledger and runs.

The demo runs as a subprocess in a fresh environment; its printed sandbox line runs in a fresh
shell from another folder. Instead of a browser, the jobs a UI launches run in-process under the
printed environment and Dagster home (tests/browser launches one from the webserver).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.pipelines.cli_helpers import free_port
from tests.pipelines.demo_helpers import (
    DemoRun,
    release_requests,
    run_demo,
    serving_the_saved_shop,
    truth_orders,
)

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> DemoRun:
    return run_demo(tmp_path_factory.mktemp("demo"), orders=80, sandbox_port=free_port())


def warehouse_orders(db: Path) -> dict[int, str]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return dict(conn.execute("select id, state from orders").fetchall())


def released_by_the_demo(db: Path) -> set[int]:
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute(
            "select order_id from order_actions"
            " where action = 'release' and status = 'succeeded' and not dry_run"
        ).fetchall()
    return {order_id for (order_id,) in rows}


def release_rows(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(
            "select key, order_id, status, dry_run from order_actions"
            " where action = 'release' order by key"
        ).fetchall()


def test_the_printed_lines_use_the_demos_files_and_absolute_paths(demo: DemoRun):
    assert demo.shop_state == demo.db.with_name("demo-shop.json") and demo.shop_state.is_file()
    assert demo.env["PREORDERS_DUCKDB_PATH"] == str(demo.db)
    assert demo.env["STOQ_BASE_URL"].startswith(f"{demo.sandbox_url}/")
    assert demo.dagster_home == demo.db.parent / "dagster"
    assert (demo.dagster_home / "dagster.yaml").is_file()
    serve = shlex.split(demo.serve_line)
    assert Path(serve[0]).is_absolute() and serve[1:3] == ["sandbox", "--state"]
    dagster = [w for w in shlex.split(demo.dagster_line) if w.split("=", 1)[0] not in demo.env]
    assert Path(dagster[0]).is_absolute() and Path(dagster[0]).name == "dagster"
    assert dagster[1] == "dev"


def test_the_printed_sandbox_serves_the_shop_the_demo_left(demo: DemoRun, tmp_path: Path):
    released = released_by_the_demo(demo.db)
    assert released, "the demo released nothing: nothing to prove"
    with serving_the_saved_shop(demo, tmp_path) as url:
        served = truth_orders(url)
    assert served == warehouse_orders(demo.db)  # same ids, same states as the demo's last sync
    assert {served[order_id] for order_id in released} == {"released"}


def test_a_ui_session_releases_nothing_the_demo_released(
    demo: DemoRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from pipelines.definitions import defs

    for name, value in demo.env.items():
        monkeypatch.setenv(name, value)
    before = release_rows(demo.db)
    with (
        serving_the_saved_shop(demo, tmp_path) as url,
        dg.DagsterInstance.from_config(str(demo.dagster_home)) as instance,
    ):
        # The UI shows the demo's runs: its report materialization is in this Dagster home.
        report = instance.fetch_materializations(dg.AssetKey("backlog_report"), limit=1).records
        assert report and report[0].asset_materialization
        assert report[0].asset_materialization.metadata["path"].value == str(demo.report)
        # What an operator does next in the UI: sync, then release for real.
        synced = defs.resolve_job_def("sync_preorders").execute_in_process(
            run_config=QUIET, instance=instance
        )
        assert synced.success
        released = defs.resolve_job_def("release_orders").execute_in_process(
            run_config={**QUIET, "ops": {"release_held_orders": {"config": {"dry_run": False}}}},
            instance=instance,
        )
        assert released.success
        assert released.output_for_node("release_held_orders") == 0
        assert release_requests(url) == []
        served = truth_orders(url)
    assert release_rows(demo.db) == before  # the ledger gained no release row
    assert served == warehouse_orders(demo.db)
