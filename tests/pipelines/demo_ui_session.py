"""What an operator does next in the UI `preorders demo` prints, without a browser: a script.

Run it under the demo's printed environment (the code location reads its shop partitions from
PREORDERS_SHOPS when it loads, so a test process that loaded it before cannot): for each shop
partition it syncs the shop, then releases for real (`dry_run: false`, the shop named), each an
in-process run recorded in the printed Dagster home. Prints one JSON object: the partitions, the
path of the latest backlog_report materialization there (the demo's), and per shop whether its
sync and its release succeeded, what the release op returned (orders sent) and why a step failed.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import dagster as dg

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def session() -> dict[str, Any]:
    """Sync and release every shop as a UI launch would; what came of it."""
    from pipelines.definitions import defs

    sync = defs.resolve_job_def("sync_preorders")
    release = defs.resolve_job_def("release_orders")
    shops = sync.partitions_def.get_partition_keys() if sync.partitions_def else []
    out: dict[str, Any] = {"partitions": shops, "shops": {}}
    with dg.DagsterInstance.get() as instance:
        report = instance.fetch_materializations(dg.AssetKey("backlog_report"), limit=1).records
        meta = report[0].asset_materialization.metadata if report else {}
        out["report"] = meta["path"].value if "path" in meta else None
        for shop in shops:
            synced = sync.execute_in_process(
                run_config=QUIET, instance=instance, partition_key=shop, raise_on_error=False
            )
            config = {"dry_run": False, "shop": shop}
            released = release.execute_in_process(
                run_config={**QUIET, "ops": {"release_held_orders": {"config": config}}},
                instance=instance,
                raise_on_error=False,
            )
            out["shops"][shop] = {
                "synced": synced.success,
                "released": released.success,
                "sent": released.output_for_node("release_held_orders")
                if released.success
                else None,
                "errors": failures(synced) + failures(released),
            }
    return out


def failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """Why the run's steps failed, one line each, the root cause's (empty when it succeeded)."""
    lines = []
    for event in result.all_events:
        if event.is_step_failure and (error := event.step_failure_data.error):
            while error.cause is not None:
                error = error.cause
            lines.append(f"{event.step_key}: {error.message.strip()}")
    return lines


if __name__ == "__main__":
    print(json.dumps(session()))
    sys.stdout.flush()
