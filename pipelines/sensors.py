"""`releasable_orders_sensor`: after each sync of `orders`, ask for a `release_orders` run.

Each tick looks at the newest materialization of the `orders` asset. When it is new (or the last
tick left work behind because of the per-tick cap), the sensor opens the warehouse read-only,
takes `releasable_orders` minus what the `order_actions` ledger already holds, and requests one
`release_orders` run for at most `max_orders_per_tick` of them, with a run_key derived from the
materialization and the order ids with their ledger keys (the same plan on the same sync is the
same run; a later sync may retry a plan whose run failed before sending). It refuses (SkipReason,
shown on the tick in the UI) when the plan is an implausible share of the open backlog, and skips
while a sync holds the DuckDB file. It ships STOPPED: turn it on in the UI when you trust it.

Policy (`preorders.actions.policy`: `ReleasePolicy`, a plain dataclass, and `plan_tick`, the
tick's decision; pass your own policy to `build_releasable_orders_sensor`):
dry_run (runs write planned ledger rows and send nothing), max_orders_per_tick, max_share and
breaker_floor (refuse when more than max(breaker_floor, max_share x open orders) are releasable
at once), bulk_threshold (batches this big go out as one bulk_release job),
unknown_submission_hold_s (seconds a lost bulk submission holds its orders; None: the run's own,
PREORDERS_UNKNOWN_SUBMISSION_HOLD_S else 3600). A tick with nothing to release says what the
open ledger rows wait on.

Cursor: JSON {"event": <storage id of the orders materialization handled>, "more": <capped>}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import dagster as dg

from pipelines.ops.release import release_held_orders, release_orders
from pipelines.resources import WarehouseResource
from preorders.actions.policy import ReleasePolicy, plan_tick, run_key

__all__ = ["Cursor", "ReleasePolicy", "build_releasable_orders_sensor", "releasable_orders_sensor"]

ORDERS = dg.AssetKey("orders")
DEFAULT_POLICY = ReleasePolicy()


@dataclass(frozen=True)
class Cursor:
    """The orders materialization last handled, and whether the cap left orders for later."""

    event: int | None = None
    more: bool = False

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(data.get("event"), bool(data.get("more")))

    def dump(self) -> str:
        return json.dumps({"event": self.event, "more": self.more}, sort_keys=True)


def evaluate(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, policy: ReleasePolicy
) -> dg.SensorResult | dg.SkipReason:
    """One tick (see the module docstring)."""
    cursor = Cursor.parse(context.cursor)
    records = context.instance.fetch_materializations(ORDERS, limit=1).records
    if not records:
        return dg.SkipReason("orders has not been materialized yet; run sync_preorders first")
    event = records[0].storage_id
    if event == cursor.event and not cursor.more:
        return dg.SkipReason("no new materialization of orders since the last tick")
    tick = plan_tick(warehouse.resolved_path(), policy)
    if tick.retry:  # nothing decided: the same event is looked at again next tick
        return dg.SkipReason(tick.skip)
    if not tick.batch:
        return dg.SensorResult(skip_reason=tick.skip, cursor=Cursor(event, False).dump())
    batch = tick.batch
    # dry_run always explicit: the job's own default (a manual launch) is a dry run.
    config = {
        "order_ids": [p.order_id for p in batch],
        "dry_run": policy.dry_run,
        "bulk_threshold": policy.bulk_threshold,
    }
    if policy.unknown_submission_hold_s is not None:
        config["unknown_submission_hold_s"] = policy.unknown_submission_hold_s
    request = dg.RunRequest(
        run_key=run_key(batch, policy.dry_run, event),
        run_config={"ops": {release_held_orders.name: {"config": config}}},
        tags={"preorders/orders": str(len(batch)), "preorders/dry_run": str(policy.dry_run)},
    )
    return dg.SensorResult(run_requests=[request], cursor=Cursor(event, tick.more).dump())


def build_releasable_orders_sensor(
    policy: ReleasePolicy = DEFAULT_POLICY,
    name: str = "releasable_orders_sensor",
    minimum_interval_seconds: int = 60,
) -> dg.SensorDefinition:
    """The sensor with a given policy (the default one is `releasable_orders_sensor`)."""

    @dg.sensor(
        name=name,
        job_name=release_orders.name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            "After each materialization of `orders`, request a release_orders run for the "
            f"releasable orders the ledger does not hold yet (dry_run={policy.dry_run}, at most "
            f"{policy.max_orders_per_tick} per tick; refuses above max({policy.breaker_floor}, "
            f"{policy.max_share:.0%} of open orders))."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        return evaluate(context, warehouse, policy)

    return _sensor


releasable_orders_sensor = build_releasable_orders_sensor()
