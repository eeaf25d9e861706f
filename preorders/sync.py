"""Sync offers and orders from STOQ into the warehouse: full walks, incremental plans, reconciles.

The API has no `updated_since` filter and derives an order's `state` on every read, so an
incremental run re-reads every open order (cheapest of per-order GETs and one window walk), walks
the created-at window for new orders, and a periodic full walk reconciles the rest. The
high-water mark only advances after a walk that provably saw every order it covered.

`warehouse` is a DuckDB connection, used throughout, or an Opener (`warehouse.connect.Opener`,
e.g. `WarehouseSettings.connect`): then the file is open only for the reads that plan the sync
and for the merge that ends it, so another process can sync another shop meanwhile.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from preorders import walks
from preorders.offer_walks import OFFER_WALKS, walk_offers
from preorders.progress import Phase, Progress
from preorders.reread import plan_reread
from preorders.sync_report import SyncReport, summary_line
from stoq import StoqClient
from warehouse import loads
from warehouse.connect import Connectable, access
from warehouse.migrate import DEFAULT_SHOP

OPEN_STATES = ("placed", "awaiting_balance", "balance_collected", "released")
RUN_STATS = ("pages", "requests", "retries", "rate_limited", "drift")  # what sync_runs keeps

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncSettings:
    """Knobs of the orders sync; the defaults suit an hourly schedule."""

    lag: timedelta = timedelta(hours=1)  # re-walk this much before the high-water mark
    #: An order created later than this past the sync's start is dated by a wrong clock: it
    #: never sets the high-water mark, and a stored mark past it is not trusted (a full walk).
    clock_skew: timedelta = timedelta(hours=1)
    reconcile_every: timedelta = timedelta(hours=24)  # a full walk at least this often
    max_walks: int = 3  # full re-walks when a walk provably missed orders
    per_page: int = 100
    chunk: int = 2000  # records per frame/merge: bounds memory, keeps merges set-based


def choose_mode(
    requested: str, state: dict[str, Any] | None, now: datetime, s: SyncSettings
) -> str:
    """`full` on the first run, when asked, when the last full walk is older than the period, or
    when the stored high-water mark lies in the future (an incremental walk from it sees none
    of the orders created since)."""
    if requested not in ("auto", "full", "incremental"):
        raise ValueError(f"sync mode must be auto, full or incremental, not {requested!r}")
    if state is None or state.get("high_water_mark") is None:
        return "full"
    if state["high_water_mark"] > now + s.clock_skew:
        return "full"
    if requested != "auto":
        return requested
    last_full = state.get("last_full_at")
    return "full" if last_full is None or now - last_full >= s.reconcile_every else "incremental"


def sync_offers(
    client: StoqClient,
    warehouse: Connectable,
    *,
    run_id: str,
    progress: Progress | None = None,
    shop: str = DEFAULT_SHOP,
) -> SyncReport:
    """Walk every offer, whatever its status, and merge them as `shop`'s (always full).

    `warehouse`: a connection, or an Opener opened only to find the file and to merge.
    """
    report, started, before = (
        SyncReport("offers", "full", run_id),
        time.monotonic(),
        client.stats.snapshot(),
    )
    seen: set[str] = set()
    phase = Phase(progress, "offers", noun="offers", client=client)
    load = loads.OffersLoad(access(warehouse), run_id=run_id, synced_at=_now(), shop=shop)
    with phase, load:
        # An offer discarded or added mid-walk shifts the list under it, and the one that slid
        # onto a page already read is never seen: walk again (offers are few) until a walk
        # sees the API's count hold still, and flag none missing if none does.
        for _ in range(OFFER_WALKS):
            if not walk_offers(client, load, report, seen, phase):
                break
        else:
            report.complete = False
        if report.doubt is None and report.complete:
            load.mark_missing(seen_ids=seen)
        else:
            report.complete = False  # a walk lied to, cut short or kept drifting: flag none
        _finish(load, report, client, before, started, high_water_mark=None)
        phase.summary = f"{report.pages} pages, {report.records:,} offers"
    return report


def sync_orders(
    client: StoqClient,
    warehouse: Connectable,
    *,
    run_id: str,
    mode: str = "auto",
    settings: SyncSettings = SyncSettings(),
    progress: Progress | None = None,
    shop: str = DEFAULT_SHOP,
) -> SyncReport:
    """Sync `shop`'s orders: a full reconcile walk or an incremental plan, chosen by `mode`.

    Every row read, written or flagged missing is `shop`'s; another shop's rows are untouched.
    `warehouse`: a connection, or an Opener opened only for the reads that plan the sync (its
    state, the open orders, the known created_at) and for the merge.
    """
    now = _now()
    reach = access(warehouse)
    with reach.window() as conn:
        state = loads.sync_state(conn, "orders", shop)
        chosen = choose_mode(mode, state, now, settings)
        known = _known(conn, shop) if chosen == "incremental" else None
    report = SyncReport("orders", chosen, run_id)
    started, before = time.monotonic(), client.stats.snapshot()
    phase = Phase(progress, f"orders ({chosen})", noun="orders", client=client)
    ceiling = now + settings.clock_skew
    load = loads.OrdersLoad(
        reach, run_id=run_id, mode=chosen, synced_at=now, shop=shop, mark_ceiling=ceiling
    )
    with phase, load:
        if known is None:
            hwm = _full_walks(client, load, report, settings, phase, ceiling)
        else:
            hwm = _incremental(client, known, load, report, settings, state or {}, phase, ceiling)
        _finish(load, report, client, before, started, high_water_mark=hwm)
        phase.summary = f"{report.pages} pages, {report.records:,} orders"
    return report


def _full_walks(
    client: StoqClient,
    load: Any,
    report: SyncReport,
    s: SyncSettings,
    phase: Phase,
    ceiling: datetime,
) -> datetime | None:
    """Walk every order; flag the ones not seen only when the walk provably saw all of them."""
    seen: walks.Seen = {}
    total, _ = _walk_window(client, load, report, seen, s, None, phase)
    if total is None:
        report.complete = False
        return None  # never provably complete: keep the old mark, flag nothing missing
    load.mark_missing(seen_ids=walks.storable(seen))
    report.complete, report.total_count = True, total
    return walks.latest(seen, until=ceiling)


def _walk_window(
    client: StoqClient,
    load: Any,
    report: SyncReport,
    seen: walks.Seen,
    s: SyncSettings,
    from_: datetime | None,
    phase: Phase,
) -> tuple[int | None, datetime | None]:
    return walks.walk_window(
        client, load, report, seen,
        from_=from_, per_page=s.per_page, chunk=s.chunk, max_walks=s.max_walks, phase=phase,
    )  # fmt: skip


@dataclass(frozen=True)
class _Known:
    """What an incremental plan reads from the warehouse before the walk."""

    opens: list[tuple[int, datetime]]  # (id, created_at) of the open orders to re-read
    created: list[datetime]  # created_at of the orders the API still returns, oldest first


def _known(conn: duckdb.DuckDBPyConnection, shop: str) -> _Known:
    """The shop's open orders and known created_at, read in the start window."""
    opens = loads.open_orders(conn, shop)
    pairs = list(zip(opens["id"].tolist(), opens["created_at"].tolist(), strict=True))
    return _Known(pairs, sorted(loads.known_created_at(conn, shop)))


def _incremental(
    client: StoqClient,
    start: _Known,
    load: Any,
    report: SyncReport,
    s: SyncSettings,
    state: dict[str, Any],
    phase: Phase,
    ceiling: datetime,
) -> datetime | None:
    """Walk the window that is cheapest to re-read, then GET the open orders older than it."""
    floor = state["high_water_mark"] - s.lag
    known = start.created
    plan = plan_reread(
        start.opens,
        known,
        per_page=s.per_page,
        floor=floor,
    )
    report.planned_requests = plan.estimated_requests
    seen: walks.Seen = {}
    window_total, window_start = _walk_window(
        client, load, report, seen, s, plan.window_from, phase
    )
    report.complete = window_total is not None
    singles = [i for i in plan.singles if i not in seen]
    missing: list[int] = []
    if singles:  # a phase of its own: one GET per order, at the rate budget's pace
        with Phase(phase.progress, "open orders", noun="orders", client=client) as reread:
            missing = walks.load_singles(client, singles, load, report, s.chunk, reread)
            reread.summary = f"{len(singles)} re-read, {len(missing)} gone"
    report.singles, report.gone = len(singles), len(missing)
    # Open orders a single read answers 404 for are flagged missing_from_api (never deleted).
    if missing:
        load.mark_missing_ids(missing)
    newest = walks.latest(seen, until=ceiling)
    if window_total is None or newest is None or window_start is None:
        return None  # keep the old mark
    # The API's count of the window plus the live orders older than the start it took.
    report.total_count = window_total + bisect_left(known, window_start) - len(missing)
    return max(newest, state["high_water_mark"])


def _finish(
    load: Any,
    report: SyncReport,
    client: StoqClient,
    before: Any,
    started: float,
    *,
    high_water_mark: datetime | None,
) -> None:
    """Fill the report's request figures and commit the load with the sync state."""
    delta = client.stats.snapshot() - before
    report.requests, report.retries, report.rate_limited = (
        delta.requests,
        delta.retries,
        delta.rate_limited,
    )
    report.duration_s = round(time.monotonic() - started, 3)
    stats = {key: getattr(report, key) for key in RUN_STATS}
    load.finish(high_water_mark=high_water_mark, total_count=report.total_count, stats=stats)
    report.counts = dataclasses.asdict(load.counts)
    log.info("%s", summary_line(report))


def _now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)
