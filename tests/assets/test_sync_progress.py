"""A Dagster sync run logs the walks' phases as the CLI prints them off a terminal."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg

import sandbox
from assets.resources import StoqResource, WarehouseResource
from assets.sync_assets import offers_assets, orders_assets


def logged(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [e.user_message for e in instance.all_logs(run_id) if e.dagster_event is None]


def test_the_sync_assets_log_each_phase_start_end_and_progress(
    tmp_path: Path, dagster_home: Path
) -> None:
    config = sandbox.SandboxConfig(orders=900, rate_limit_points=100_000)
    with sandbox.serve(config) as running:
        resources = {
            "stoq": StoqResource(api_key=sandbox.DEFAULT_API_KEY, base_url=running.base_url),
            "warehouse": WarehouseResource(database=str(tmp_path / "w.duckdb")),
        }
        instance = dg.DagsterInstance.get()
        result = dg.materialize(
            [offers_assets, orders_assets], resources=resources, instance=instance
        )
    assert result.success
    lines = logged(instance, result.run_id)
    for phase in ("offers", "orders (full)"):
        assert f"{phase}: started" in lines, lines
        ended = [line for line in lines if line.startswith(f"{phase}: done in ")]
        assert len(ended) == 1, lines
    assert ended[0].endswith("(9 pages, 900 orders)")  # the orders phase, the last in the loop
    # The first progress line comes at once (then at most one every 10 s): pages of the total.
    assert any(re.fullmatch(r"offers: \d+/\d+ pages, \d+ offers.*", line) for line in lines)
    assert sandbox.DEFAULT_API_KEY not in "\n".join(lines)
