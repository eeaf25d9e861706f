"""What one tick of the release sensor may do: read the plan, trip the breaker, cap the batch.

Dagster-free: `pipelines/sensors.py` turns a `Tick` into a RunRequest or a SkipReason. A tick is
one shop's (`shop`): its plan, breaker and waits read that shop's rows only, and its run key
names the shop.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from preorders.actions.plans import plan_release
from preorders.actions.review import waits
from preorders.actions.rules import ActionSettings
from warehouse import ledger
from warehouse.migrate import DEFAULT_SHOP


@dataclass(frozen=True)
class ReleasePolicy:
    """What one sensor tick may do."""

    dry_run: bool = False
    max_orders_per_tick: int = 100
    max_share: float = 0.5
    breaker_floor: int = 25
    bulk_threshold: int = ActionSettings.bulk_threshold
    # Seconds a lost bulk submission holds its orders before they may be judged not applied;
    # None: the run's own (PREORDERS_UNKNOWN_SUBMISSION_HOLD_S, else 3600).
    unknown_submission_hold_s: float | None = None

    def __post_init__(self) -> None:
        hold = self.unknown_submission_hold_s
        if hold is not None and not 0 <= hold <= 10**9:
            raise ValueError(f"unknown_submission_hold_s must be seconds >= 0 (got {hold!r})")

    def allowed(self, open_orders: int) -> int:
        """The most orders one sync may make releasable before the breaker trips."""
        return max(self.breaker_floor, math.floor(self.max_share * open_orders))


@dataclass(frozen=True)
class Tick:
    """A tick's decision: the batch to release (empty: `skip` says why) and whether more wait.

    `retry` is True when nothing was decided (the warehouse was busy): ask again next tick.
    """

    batch: list[ledger.Planned]
    skip: str | None = None
    more: bool = False
    retry: bool = False


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


def plan_tick(path: str, policy: ReleasePolicy, *, shop: str = DEFAULT_SHOP) -> Tick:
    """`shop`'s releasable orders its ledger does not hold yet, under the breaker (against that
    shop's open orders) and the per-tick cap."""
    try:
        with read_only(path) as conn:
            plan = plan_release(conn, shop=shop)
            open_orders = ledger.open_orders_count(conn, shop)
            hold = policy.unknown_submission_hold_s
            settings = ActionSettings.from_env("release", hold)
            waiting = [] if plan else waits(conn, "release", settings, shop=shop)
    except WarehouseBusy as exc:
        return Tick([], f"warehouse busy, will retry next tick: {exc}", retry=True)
    except (duckdb.CatalogException, duckdb.BinderException) as exc:  # e.g. a column added since
        return Tick([], f"warehouse schema is incomplete; run a sync first ({exc})", retry=True)
    except ValueError as exc:  # a bad PREORDERS_UNKNOWN_SUBMISSION_HOLD_S: the runs would fail too
        return Tick([], f"configuration error: {exc}", retry=True)
    if not plan:
        why = "nothing to release: no releasable order without a ledger entry"
        return Tick([], "; ".join([why, *waiting]))
    limit = policy.allowed(open_orders)
    if len(plan) > limit:
        return Tick(
            [],
            f"circuit breaker: {len(plan)} orders would be released out of {open_orders} "
            f"open (limit {limit} = max({policy.breaker_floor}, {policy.max_share:.0%} of "
            "open)); check the last sync, then release by hand with `preorders release` "
            "or raise max_share",
        )
    batch = plan[: max(1, policy.max_orders_per_tick)]
    return Tick(batch, more=len(plan) > len(batch))


def run_key(
    plan: list[ledger.Planned], dry_run: bool, event: int, *, shop: str = DEFAULT_SHOP
) -> str:
    """Deterministic per shop, orders materialization and (order id, ledger key) set.

    Re-ticks on one sync ask for the same run (Dagster dedupes it); a later sync gets a new key
    even when the plan is unchanged, because Dagster never runs a run_key twice and a run that
    failed before sending (a 401, say) gives its claims back: the ledger, not the key, prevents
    a second send. Two shops with the same order ids and keys get two run keys: the shop is in
    the digest and the name (shop `default` keeps the key it had before shops).
    """
    pairs = sorted((p.order_id, p.key) for p in plan)
    parts: list = [event, pairs] if shop == DEFAULT_SHOP else [shop, event, pairs]
    digest = hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:24]
    where = "" if shop == DEFAULT_SHOP else f"{shop}-"
    return f"release-{where}{'dry-' if dry_run else ''}{digest}"
