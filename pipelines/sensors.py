"""`releasable_orders_sensor`: after each sync of a shop's `orders`, ask for its release run.

Each tick looks, shop by shop (the shops file's names, read at each tick), at the newest
materialization of that shop's `orders` partition. When it is new (or the shop's last tick left
work behind because of the per-tick cap), the sensor opens the warehouse read-only, takes the
shop's `releasable_orders` minus what its `order_actions` ledger already holds, and requests one
`release_orders` run for at most `max_orders_per_tick` of them, with a run_key derived from the
materialization, the order ids with their ledger keys, and the shop (the same plan on the same
sync is the same run; a later sync may retry a plan whose run failed before sending). The run's
config names the shop and it carries `stoq/shop=<shop>`: its orders are that shop's alone, sent
with that shop's key. It refuses a shop (SkipReason, shown on the tick in the UI) when the plan is
an implausible share of the shop's open backlog, and skips while a sync holds the DuckDB file. It
ships STOPPED: turn it on in the UI when you trust it.

Policy (`preorders.actions.policy`: `ReleasePolicy`, a plain dataclass, and `plan_tick`, the
tick's decision; pass your own policy to `build_releasable_orders_sensor`):
dry_run (runs write planned ledger rows and send nothing), max_orders_per_tick, max_share and
breaker_floor (refuse when more than max(breaker_floor, max_share x open orders) are releasable
at once), bulk_threshold (batches this big go out as one bulk_release job),
unknown_submission_hold_s (seconds a lost bulk submission holds its orders; None: the run's own,
PREORDERS_UNKNOWN_SUBMISSION_HOLD_S else 3600). A tick with nothing to release says what the
open ledger rows wait on. The policy applies to each shop on its own.

Cursor: JSON {<shop>: {"event": <storage id of the shop's orders materialization handled>,
"more": <capped>}}; a cursor written before shops (one {"event", "more"}) is shop `default`'s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import dagster as dg

from assets.shops import shop_names, shop_tags
from pipelines.ops.release import release_held_orders, release_orders
from pipelines.resources import WarehouseResource
from preorders.actions.policy import ReleasePolicy, plan_tick, run_key
from preorders.shops import DEFAULT_SHOP

__all__ = ["Cursor", "ReleasePolicy", "build_releasable_orders_sensor", "releasable_orders_sensor"]

ORDERS = dg.AssetKey("orders")
DEFAULT_POLICY = ReleasePolicy()


@dataclass(frozen=True)
class Cursor:
    """One shop's orders materialization last handled, and whether the cap left orders for later."""

    event: int | None = None
    more: bool = False

    @classmethod
    def parse(cls, text: str | None, shop: str = DEFAULT_SHOP) -> Cursor:
        """`shop`'s cursor in the sensor's cursor text."""
        return parse_all(text).get(shop, cls())

    def fields(self) -> dict[str, Any]:
        return {"event": self.event, "more": self.more}


def parse_all(text: str | None) -> dict[str, Cursor]:
    """Every shop's cursor in the sensor's cursor text (a pre-shops cursor is `default`'s)."""
    if not text:
        return {}
    data = json.loads(text)
    if "event" in data or "more" in data:  # written before shops: the one shop's
        data = {DEFAULT_SHOP: data}
    return {shop: Cursor(c.get("event"), bool(c.get("more"))) for shop, c in data.items()}


def dump_all(cursors: dict[str, Cursor]) -> str:
    """The sensor's cursor text for every shop's cursor."""
    return json.dumps({shop: c.fields() for shop, c in cursors.items()}, sort_keys=True)


@dataclass(frozen=True)
class ShopTick:
    """One shop's part of a tick: its request (or why none) and its cursor after the tick."""

    cursor: Cursor
    request: dg.RunRequest | None = None
    skip: str | None = None


def latest_sync(context: dg.SensorEvaluationContext, shop: str) -> int | None:
    """The storage id of the newest materialization of `shop`'s `orders` partition."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=ORDERS, asset_partitions=[shop]), limit=1
    ).records
    return records[0].storage_id if records else None


def evaluate_shop(
    context: dg.SensorEvaluationContext,
    warehouse: WarehouseResource,
    policy: ReleasePolicy,
    shop: str,
    cursor: Cursor,
) -> ShopTick:
    """One shop's part of a tick (see the module docstring)."""
    event = latest_sync(context, shop)
    if event is None:
        return ShopTick(
            cursor, skip="orders has not been materialized yet; run sync_preorders first"
        )
    if event == cursor.event and not cursor.more:
        return ShopTick(cursor, skip="no new materialization of orders since the last tick")
    tick = plan_tick(warehouse.resolved_path(), policy, shop=shop)
    if tick.retry:  # nothing decided: the same event is looked at again next tick
        return ShopTick(cursor, skip=tick.skip)
    if not tick.batch:
        return ShopTick(Cursor(event, False), skip=tick.skip)
    batch = tick.batch
    # dry_run always explicit: the job's own default (a manual launch) is a dry run.
    config: dict[str, Any] = {
        "shop": shop,
        "order_ids": [p.order_id for p in batch],
        "dry_run": policy.dry_run,
        "bulk_threshold": policy.bulk_threshold,
    }
    if policy.unknown_submission_hold_s is not None:
        config["unknown_submission_hold_s"] = policy.unknown_submission_hold_s
    request = dg.RunRequest(
        run_key=run_key(batch, policy.dry_run, event, shop=shop),
        run_config={"ops": {release_held_orders.name: {"config": config}}},
        tags={
            **shop_tags(shop),
            "preorders/orders": str(len(batch)),
            "preorders/dry_run": str(policy.dry_run),
        },
    )
    return ShopTick(Cursor(event, tick.more), request=request)


def evaluate(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, policy: ReleasePolicy
) -> dg.SensorResult | dg.SkipReason:
    """One tick: each shop's part, one request per shop with work (see the module docstring)."""
    cursors = parse_all(context.cursor)
    shops = shop_names()
    ticks = {shop: evaluate_shop(context, warehouse, policy, shop, cursors.get(shop, Cursor()))
             for shop in shops}  # fmt: skip
    requests = [t.request for t in ticks.values() if t.request is not None]
    skips = [(shop, t.skip) for shop, t in ticks.items() if t.skip]
    why = "; ".join(skip if len(shops) == 1 else f"shop {shop}: {skip}" for shop, skip in skips)
    moved = {shop: t.cursor for shop, t in ticks.items() if t.cursor != cursors.get(shop, Cursor())}
    after = {**cursors, **moved}
    if not requests and after == cursors:
        return dg.SkipReason(why)
    if not requests:
        return dg.SensorResult(skip_reason=why, cursor=dump_all(after))
    return dg.SensorResult(run_requests=requests, cursor=dump_all(after))


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
            "After each materialization of a shop's `orders`, request a release_orders run for "
            "that shop's releasable orders the ledger does not hold yet (dry_run="
            f"{policy.dry_run}, at most {policy.max_orders_per_tick} per shop and tick; refuses "
            f"above max({policy.breaker_floor}, {policy.max_share:.0%} of the shop's open "
            "orders))."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        return evaluate(context, warehouse, policy)

    return _sensor


releasable_orders_sensor = build_releasable_orders_sensor()
