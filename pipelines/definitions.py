"""The code location: the one `Definitions` object, `defs` (loaded by workspace.yaml).

The synced assets, their checks and `sync_preorders` are partitioned by shop (assets/shops.py:
the shops file's names, read at load without needing any key; a bad file fails the load with its
own message). Keys are read only when a run needs one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

from assets.checks import ASSET_CHECKS
from assets.manifest import stoq_manifest, stoq_manifest_matches_client
from assets.report import backlog_report
from assets.sync_assets import offers_assets, orders_assets
from pipelines.jobs import refresh_stoq_manifest, sync_preorders
from pipelines.ops.balances import collect_balances
from pipelines.ops.exports import export_report
from pipelines.ops.ledger import review_actions, settle_action
from pipelines.ops.offers import manage_offer
from pipelines.ops.release import release_orders
from pipelines.ops.variants import bulk_variant_admin
from pipelines.resources import StoqResource, WarehouseResource
from pipelines.schedules import daily_manifest_schedule, hourly_sync_schedule
from pipelines.sensors import releasable_orders_sensor
from preorders.shops import DEFAULT_KEY_ENV, SHOPS_ENV


def stoq_resource(env: Mapping[str, str] = os.environ) -> StoqResource:
    """The STOQ resource: without a shops file, the one shop's key from EnvVar STOQ_API_KEY, as
    ever; with one, none here (each run reads its shop's key from the variable the file names),
    so a deployment that sets only PREORDERS_SHOPS and the shops' keys loads and runs."""
    if env.get(SHOPS_ENV, "").strip():
        return StoqResource()
    return StoqResource(api_key=dg.EnvVar(DEFAULT_KEY_ENV))


# Evaluates backlog_report's eager automation condition: after an `orders` update the job did
# not render the report for (a `preorders sync` recorded from the CLI), one run renders it. On by
# default: it only reads the warehouse and writes the report, never calls STOQ.
backlog_report_sensor = dg.AutomationConditionSensorDefinition(
    "backlog_report_sensor",
    target=dg.AssetSelection.assets(backlog_report),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Renders backlog_report after each update of orders that did not render it.",
)

defs = dg.Definitions(
    assets=[
        offers_assets,
        orders_assets,
        backlog_report,
        stoq_manifest,
    ],
    asset_checks=[
        *ASSET_CHECKS,
        stoq_manifest_matches_client,
    ],
    jobs=[
        sync_preorders,
        release_orders,
        collect_balances,
        manage_offer,
        export_report,
        bulk_variant_admin,
        review_actions,
        settle_action,
        refresh_stoq_manifest,
    ],
    schedules=[
        hourly_sync_schedule,
        daily_manifest_schedule,
    ],
    sensors=[
        releasable_orders_sensor,
        backlog_report_sensor,
    ],
    resources={
        "stoq": stoq_resource(),
        "warehouse": WarehouseResource(),
    },
)
