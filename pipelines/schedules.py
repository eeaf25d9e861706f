"""Schedules of the code location."""

from __future__ import annotations

import dagster as dg

from pipelines.jobs import refresh_stoq_manifest, sync_preorders

# Stopped by default: a fresh checkout has no STOQ_API_KEY, and turning on calls to a live shop
# is an operator's decision (toggle it in the UI or set DefaultScheduleStatus.RUNNING).
hourly_sync_schedule = dg.ScheduleDefinition(
    name="hourly_sync_schedule",
    job=sync_preorders,
    cron_schedule="7 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Hourly sync (auto mode: incremental, with a full reconcile once a day).",
)

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
