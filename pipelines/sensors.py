"""`releasable_orders_sensor`: after each sync of `orders`, ask for a `release_orders` run.

Each tick looks at the newest materialization of the `orders` asset. When it is new (or the last
tick left work behind because of the per-tick cap), the sensor opens the warehouse read-only,
takes `releasable_orders` minus what the `order_actions` ledger already holds, and requests one
`release_orders` run for at most `max_orders_per_tick` of them, with a run_key derived from the
materialization and the order ids with their ledger keys (the same plan on the same sync is the
same run; a later sync may retry a plan whose run failed before sending). It refuses (SkipReason,
shown on the tick in the UI) when the plan is an implausible share of the open backlog, and skips
while a sync holds the DuckDB file. It ships STOPPED: turn it on in the UI when you trust it.

Policy (`ReleasePolicy`, a plain dataclass; pass your own to `build_releasable_orders_sensor`):
dry_run (runs write planned ledger rows and send nothing), max_orders_per_tick, max_share and
breaker_floor (refuse when more than max(breaker_floor, max_share x open orders) are releasable
at once), bulk_threshold (batches this big go out as one bulk_release job).

Cursor: JSON {"event": <storage id of the orders materialization handled>, "more": <capped>}.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.ops.release import release_held_orders, release_orders
from pipelines.resources import WarehouseResource
from preorders import actions
from warehouse import ledger

ORDERS = dg.AssetKey("orders")


@dataclass(frozen=True)
class ReleasePolicy:
    """What one sensor tick may do."""

    dry_run: bool = False
    max_orders_per_tick: int = 100
    max_share: float = 0.5
    breaker_floor: int = 25
    bulk_threshold: int = actions.ActionSettings.bulk_threshold

    def allowed(self, open_orders: int) -> int:
        """The most orders one sync may make releasable before the breaker trips."""
        return max(self.breaker_floor, math.floor(self.max_share * open_orders))


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


class WarehouseBusy(Exception):
    """The DuckDB file is locked by a writer (a sync, a release run) or missing."""


@contextmanager
def read_only(path: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, once, without waiting on the writer's lock."""
    if path != ":memory:" and not Path(path).exists():
        raise WarehouseBusy(f"no warehouse file at {path} yet; run a sync first")
    try:
        conn = duckdb.connect(path, read_only=True)
    except (duckdb.IOException, duckdb.ConnectionException) as exc:
        raise WarehouseBusy(f"the warehouse file is in use by another process ({exc})") from exc
    try:
        yield conn
    finally:
        conn.close()


def run_key(plan: list[ledger.Planned], dry_run: bool, event: int) -> str:
    """Deterministic per orders materialization and (order id, ledger key) set.

    Re-ticks on one sync ask for the same run (Dagster dedupes it); a later sync gets a new key
    even when the plan is unchanged, because Dagster never runs a run_key twice and a run that
    failed before sending (a 401, say) gives its claims back: the ledger, not the key, prevents
    a second send.
    """
    pairs = sorted((p.order_id, p.key) for p in plan)
    digest = hashlib.sha256(json.dumps([event, pairs]).encode()).hexdigest()[:24]
    return f"release-{'dry-' if dry_run else ''}{digest}"


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
    try:
        with read_only(warehouse.resolved_path()) as conn:
            plan = actions.plan_release(conn)
            open_orders = ledger.open_orders_count(conn)
    except WarehouseBusy as exc:
        return dg.SkipReason(f"warehouse busy, will retry next tick: {exc}")
    except duckdb.CatalogException as exc:
        return dg.SkipReason(f"warehouse schema is incomplete; run a sync first ({exc})")
    if not plan:
        return dg.SensorResult(
            skip_reason="nothing to release: no releasable order without a ledger entry",
            cursor=Cursor(event, False).dump(),
        )
    limit = policy.allowed(open_orders)
    if len(plan) > limit:
        return dg.SensorResult(
            skip_reason=(
                f"circuit breaker: {len(plan)} orders would be released out of {open_orders} "
                f"open (limit {limit} = max({policy.breaker_floor}, {policy.max_share:.0%} of "
                "open)); check the last sync, then release by hand with `preorders release` "
                "or raise max_share"
            ),
            cursor=Cursor(event, False).dump(),
        )
    batch = plan[: max(1, policy.max_orders_per_tick)]
    config = {
        "order_ids": [p.order_id for p in batch],
        "dry_run": policy.dry_run,
        "bulk_threshold": policy.bulk_threshold,
    }
    request = dg.RunRequest(
        run_key=run_key(batch, policy.dry_run, event),
        run_config={"ops": {release_held_orders.name: {"config": config}}},
        tags={"preorders/orders": str(len(batch)), "preorders/dry_run": str(policy.dry_run)},
    )
    return dg.SensorResult(
        run_requests=[request], cursor=Cursor(event, len(plan) > len(batch)).dump()
    )


def build_releasable_orders_sensor(
    policy: ReleasePolicy = ReleasePolicy(),
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
