"""Record a sync that ran outside Dagster (`preorders sync`) into the Dagster instance.

    with dg.DagsterInstance.get() as instance:
        record_sync(instance, reports, outcomes, rows=row_counts, shapes=table_shapes, shop="eu")

No run: each table the sync wrote gets a runless `AssetMaterialization` of the shop's partition
with the metadata the `offers_assets` / `orders_assets` run emits (Dagster's table metadata
included, through `assets.metadata`), and each check outcome an `AssetCheckEvaluation` (same
name, severity and blocking flag as the asset check) naming the shop in its metadata, without a
partition: Dagster 1.13 keeps one runless evaluation per check and partition (a unique index on
asset, check, run id "" and partition), so a second CLI sync of a shop could not record its
checks. `releasable_orders_sensor` reads the newest materialization of each shop's `orders`
partition, so it wakes on a CLI sync as on a scheduled run.

`python -m pipelines.recording` is the same in a helper process, which `preorders sync` starts
before its API walk so that importing Dagster and opening its storage (about 2 s of CPU) runs on
the other core: it opens the instance of DAGSTER_HOME, then reads one JSON document from stdin,
`{"shop": name, "materializations": {table: metadata}, "checks": [CheckOutcome fields]}` ("shop"
optional: `default`), or a list of them (one per shop synced), and records each. Empty stdin (the
sync stopped or failed before it had anything to record) records nothing.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import dagster as dg

from assets.metadata import materialization_metadata
from preorders.shops import DEFAULT_SHOP

if TYPE_CHECKING:
    from preorders.checks import CheckOutcome
    from preorders.sync_report import SyncReport
    from warehouse.tables import TableShape


def record_sync(
    instance: dg.DagsterInstance,
    reports: Sequence[SyncReport],
    outcomes: Sequence[CheckOutcome],
    *,
    rows: Mapping[str, int] | None = None,
    shapes: Mapping[str, TableShape] | None = None,
    shop: str = DEFAULT_SHOP,
) -> None:
    """Materializations of every table each report's stream wrote, then every check outcome, all
    of `shop`'s partition."""
    from preorders.sync_report import table_metadata

    materializations = table_metadata(reports, rows or {}, shapes)
    record_events(instance, materializations, [asdict(o) for o in outcomes], shop=shop)


def record_events(
    instance: dg.DagsterInstance,
    materializations: Mapping[str, Mapping[str, Any]],
    checks: Sequence[Mapping[str, Any]],
    shop: str = DEFAULT_SHOP,
) -> None:
    """One runless materialization per table of `shop`'s partition, then one check evaluation per
    outcome's fields, `shop` in its metadata (see the module docstring: no partition)."""
    for table, figures in materializations.items():
        metadata = materialization_metadata(figures)
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=table, metadata=metadata, partition=shop)
        )
    for fields in checks:
        figures = {**fields, "metadata": {**fields.get("metadata", {}), "shop": shop}}
        instance.report_runless_asset_event(evaluation(**figures))


def evaluation(
    *,
    name: str,
    asset: str,
    passed: bool,
    severity: str,
    metadata: Mapping[str, Any],
    blocking: bool,
    partition: str | None = None,
) -> dg.AssetCheckEvaluation:
    """The Dagster check evaluation of a core `CheckOutcome`'s fields (of a shop's partition)."""
    return dg.AssetCheckEvaluation(
        partition=partition,
        asset_key=dg.AssetKey(asset),
        check_name=name,
        passed=passed,
        metadata=dict(metadata),
        severity=dg.AssetCheckSeverity(severity),
        blocking=blocking,
    )


def materialize_report(instance: dg.DagsterInstance, run_config: Mapping[str, Any]) -> Any:
    """Materialize `backlog_report` in `instance` (for `preorders demo`); the run's result."""
    from assets.report import backlog_report
    from pipelines.resources import WarehouseResource

    return dg.materialize(
        [backlog_report],
        instance=instance,
        resources={"warehouse": WarehouseResource()},
        run_config=dict(run_config),
        raise_on_error=False,
    )


def main() -> int:
    """The helper process (see the module docstring); exit 0 once recorded, 1 on an error."""
    for signum in (signal.SIGINT, signal.SIGTERM):  # the parent's stop ends us through stdin
        signal.signal(signum, signal.SIG_IGN)
    warnings.filterwarnings("ignore", module=r"dagster")  # beta notes are not for operators
    with dg.DagsterInstance.get() as instance:
        text = sys.stdin.read()
        if not text.strip():
            return 0
        payload = json.loads(text)
        for document in payload if isinstance(payload, list) else [payload]:
            shop = document.get("shop") or DEFAULT_SHOP
            record_events(instance, document["materializations"], document["checks"], shop=shop)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip tearing down Dagster's modules (~0.3 s): the parent waits for our exit
