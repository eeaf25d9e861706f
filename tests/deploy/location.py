"""The code location the deploy suite serves: the product's own Definitions, with the release
sensor built live (not a dry run), four orders a tick (two runs for the test shop's seven), and a
1 s interval so a test sees its ticks."""

from __future__ import annotations

import dagster as dg

from pipelines import definitions as product  # the module: one Definitions at module scope
from pipelines.sensors import ReleasePolicy, build_releasable_orders_sensor

POLICY = ReleasePolicy(dry_run=False, max_orders_per_tick=4)

releasable_orders_sensor = build_releasable_orders_sensor(POLICY, minimum_interval_seconds=1)

# Only this sensor: backlog_report_sensor (on by default) would add report runs to wait for.
defs = dg.Definitions(
    assets=product.defs.assets,
    asset_checks=product.defs.asset_checks,
    jobs=product.defs.jobs,
    schedules=product.defs.schedules,
    sensors=[releasable_orders_sensor],
    resources=product.defs.resources,
)
