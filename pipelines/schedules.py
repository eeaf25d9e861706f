"""Schedules of the code location."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from assets.shops import SHOP_PARTITIONS, shop_tags
from pipelines.jobs import refresh_stoq_manifest, sync_preorders


def build_hourly_sync_schedule(
    job: dg.UnresolvedAssetJobDefinition, partitions: dg.PartitionsDefinition
) -> dg.ScheduleDefinition:
    """Every hour, one `job` run per shop of `partitions` (run key: the tick's time and shop)."""

    # Stopped by default: a fresh checkout has no key, and turning on calls to a live shop is an
    # operator's decision (toggle it in the UI or set DefaultScheduleStatus.RUNNING).
    @dg.schedule(
        name="hourly_sync_schedule",
        job=job,
        cron_schedule="7 * * * *",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Hourly sync of every shop, one run each (auto mode: incremental, with a"
        " full reconcile once a day).",
    )
    def hourly_sync_schedule(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
        tick = context.scheduled_execution_time
        stamp = tick.isoformat() if tick is not None else "now"
        for shop in partitions.get_partition_keys():
            yield dg.RunRequest(run_key=f"{stamp}:{shop}", partition_key=shop, tags=shop_tags(shop))

    return hourly_sync_schedule


hourly_sync_schedule = build_hourly_sync_schedule(sync_preorders, SHOP_PARTITIONS)

# Stopped by default for the same reason; once on, it costs one API request a day. The run also
# evaluates the asset's check, stoq_manifest_matches_client (the contract-drift verdict).
daily_manifest_schedule = dg.ScheduleDefinition(
    name="daily_manifest_schedule",
    job=refresh_stoq_manifest,
    cron_schedule="17 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Daily fetch of STOQ's /help manifest and the contract-drift check against it.",
)
