"""Batched order reads: one created-at window walk plus concurrent GETs, whichever costs less.

Every record returned was read after the call began (a list page is as fresh a read of an order
as its GET), so it may stand in for the per-order GET before acting and for the read-back after a
bulk job. `preorders.reread.plan_reread` picks the window start; orders older than it, orders the
walk did not show (drift, another sort order, clock skew, a summary-only list) and orders without a
known created_at are read with `GET /preorders/orders/:id` on a pool of `client.concurrency`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import duckdb

from preorders.reread import plan_reread
from stoq import StoqClient, errors
from warehouse import ledger
from warehouse.migrate import DEFAULT_SHOP

# Window bounds are sent this much wider, so a server whose `from`/`to` is exclusive, or that
# rounds to whole seconds, still returns the orders created exactly at a bound.
MARGIN = timedelta(seconds=1)
# The fields the pre-send checks and read-back tests look at: a list item without them is no
# substitute for the order's GET (SPEC §3.3 leaves open whether the list is a summary).
NEEDED = ("state", "payments")

Record = dict[str, Any]


class OrderReads(dict[int, Record | None]):
    """Fresh records by order id (None: 404); ids whose read failed are in `failed` instead."""

    def __init__(self) -> None:
        super().__init__()
        self.failed: dict[int, errors.StoqError] = {}
        self.pages = 0  # list pages the window walk read
        self.gets = 0  # per-order GETs sent
        self.window_from: datetime | None = None


@dataclass(frozen=True)
class Window:
    """The created-at window to walk (bounds as sent) and the wanted ids that should be in it."""

    start: datetime
    end: datetime
    ids: list[int]


class Dated(Protocol):
    """A ledger row or plan item: which order, and when it was created (if known)."""

    @property
    def order_id(self) -> int: ...

    @property
    def created_at(self) -> datetime | None: ...


def read_rows(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    rows: Iterable[Dated],
    *,
    shop: str = DEFAULT_SHOP,
) -> OrderReads:
    """`read_orders` for `shop`'s plan items or ledger rows (`client` is that shop's), costed
    against every order of that shop in the warehouse."""
    wanted = {r.order_id: r.created_at for r in rows}
    known = ledger.known_created(conn, shop) if len(wanted) > 1 else None
    return read_orders(client, wanted, per_page=client.per_page, known_created=known)


def read_orders(
    client: StoqClient,
    wanted: Mapping[int, datetime | None],
    *,
    per_page: int,
    known_created: Sequence[datetime] | None = None,
) -> OrderReads:
    """Read each wanted order (id -> created_at) once: a window walk and GETs, fewest requests.

    `known_created` holds the created_at of every order the walk may page through (defaults to
    the wanted ones). A 404 maps to None; any other failed GET lands in `.failed`; Unauthorized
    is raised, since every other read would fail the same way.
    """
    out = OrderReads()
    window, singles = _plan(wanted, known_created, per_page)
    pool = ThreadPoolExecutor(client.concurrency, thread_name_prefix="order-reads")
    try:
        gets = {i: pool.submit(client.get_order, i) for i in singles}
        seen = _walk(client, window, per_page, out) if window else {}
        # Whatever the window should have held but did not show is read one by one.
        missed = [i for i in (window.ids if window else ()) if i not in seen]
        gets |= {i: pool.submit(client.get_order, i) for i in missed}
        out.gets = len(gets)
        for order_id, future in gets.items():
            _settle_get(out, order_id, future, seen.get(order_id))
        for order_id, record in seen.items():
            if order_id in wanted:  # the window also holds orders nobody asked about
                out.setdefault(order_id, record)
    except KeyboardInterrupt:  # a signal: the process is leaving, a slow GET must not hold it
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return out


def _plan(
    wanted: Mapping[int, datetime | None], known: Sequence[datetime] | None, per_page: int
) -> tuple[Window | None, list[int]]:
    """(the window to walk, if any; the ids to GET), by estimated request count."""
    dated = [(int(i), c) for i, c in wanted.items() if c is not None]
    undated = [int(i) for i, c in wanted.items() if c is None]
    if not dated:
        return None, undated
    newest = max(c for _, c in dated)
    end = newest.replace(microsecond=0) + 2 * MARGIN  # whole seconds, then the margin
    costed = [c for c in (known if known is not None else [c for _, c in dated]) if c <= end]
    plan = plan_reread(dated, costed, per_page=per_page, floor=newest)
    if plan.estimated_requests >= len(dated):  # ties go to GETs: the order's own representation
        return None, [i for i, _ in dated] + undated
    start = plan.window_from
    window = Window(start.replace(microsecond=0) - MARGIN, end, [i for i, c in dated if c >= start])
    return window, plan.singles + undated


def _walk(client: StoqClient, window: Window, per_page: int, out: OrderReads) -> dict[int, Record]:
    """The window's records by order id; a walk that fails part-way keeps what it read."""
    out.window_from = window.start
    seen: dict[int, Record] = {}
    walk = client.list_orders(from_=window.start, to=window.end, per_page=per_page)
    try:
        for page in walk.pages():
            for record in page:
                order_id = _order_id(record)
                if order_id is not None and all(k in record for k in NEEDED):
                    seen[order_id] = _fresher(seen.get(order_id), record)
    except errors.Unauthorized:
        raise
    except errors.StoqError:
        pass  # the orders it did not show fall back to GETs
    finally:
        out.pages = walk.stats.pages
    return seen


def _settle_get(
    out: OrderReads, order_id: int, future: Future[Record], listed: Record | None
) -> None:
    try:
        record: Record | None = future.result()
    except errors.NotFound:
        record = None
    except errors.Unauthorized:
        raise
    except errors.StoqError as exc:
        if listed is None:
            out.failed[order_id] = exc
            return
        record = listed  # the walk showed it after all (a widened window): still a fresh read
    out[order_id] = record if record is None or listed is None else _fresher(listed, record)


def _fresher(old: Record | None, new: Record) -> Record:
    """The later of two reads of one order by `updated_at`; `new` when that cannot tell."""
    if old is None:
        return new
    a, b = str(old.get("updated_at") or ""), str(new.get("updated_at") or "")
    # ISO 8601 UTC timestamps of one server compare as text.
    return old if a and b and a > b else new


def _order_id(record: Record) -> int | None:
    """The Shopify order id the ledger and the GET path use (`id` only when it is absent)."""
    value = record.get("shopify_order_id", record.get("id"))
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
