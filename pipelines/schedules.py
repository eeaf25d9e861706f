"""Schedules of the code location."""

from __future__ import annotations

import dagster as dg

from pipelines.jobs import sync_preorders

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
