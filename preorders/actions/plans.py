"""Plans: which orders an action would handle now, from the warehouse alone (no requests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb

from preorders.actions.outcomes import Outcome
from preorders.actions.rules import DEFAULT_SETTINGS, ActionSettings, retry_blocker
from warehouse import ledger
from warehouse.ledger import Planned
from warehouse.migrate import DEFAULT_SHOP

OPEN = frozenset({"planned", "sent", "unknown"})
DONE = "released; the next sync shows it"


def plan_release(
    conn: duckdb.DuckDBPyConnection,
    limit: int | None = None,
    order_ids: Sequence[int] | None = None,
    *,
    force: bool = False,
    settings: ActionSettings = DEFAULT_SETTINGS,
    now: datetime | None = None,
    shop: str = DEFAULT_SHOP,
) -> list[Planned]:
    """`shop`'s releasable orders (or the named ones) whose next ledger key is free now, oldest
    first; another shop's orders are never planned."""
    todo, _waiting = release_plan(
        conn, order_ids, force=force, settings=settings, now=now, shop=shop
    )
    return todo[:limit] if limit else todo


def release_plan(
    conn: duckdb.DuckDBPyConnection,
    order_ids: Sequence[int] | None = None,
    *,
    force: bool = False,
    settings: ActionSettings = DEFAULT_SETTINGS,
    now: datetime | None = None,
    shop: str = DEFAULT_SHOP,
) -> tuple[list[Planned], list[Outcome]]:
    """(what may go out now; a skip per retry still in its backoff or refused, saying why)."""
    if order_ids:
        found = ledger.orders_by_id(conn, order_ids, shop=shop)
    else:
        found = ledger.releasable(conn, shop)
    keys = ledger.next_keys(
        conn, "release", found, forced=force, max_attempts=settings.max_attempts, shop=shop
    )
    now = now or datetime.now(UTC)
    todo, waiting = [], []
    for item in keys:
        why = retry_blocker(item, settings, now)
        if why is None:
            todo.append(item)
        else:
            waiting.append(Outcome(item.order_id, "release", "skipped", why, item.forced))
    return todo, waiting


def plan_charges(
    conn: duckdb.DuckDBPyConnection,
    limit: int | None = None,
    order_ids: Sequence[int] | None = None,
    *,
    offer_id: str | None = None,
    shop: str = DEFAULT_SHOP,
) -> list[Planned]:
    """`shop`'s orders awaiting their balance (or the named ones) not yet charged for this
    version."""
    if order_ids:
        found = ledger.orders_by_id(conn, order_ids, "charge_balance", shop=shop)
    else:
        found = ledger.awaiting_balance(conn, offer_id=offer_id, shop=shop)
    todo = ledger.next_keys(conn, "charge_balance", found, max_attempts=1, shop=shop)
    return todo[:limit] if limit else todo


def unplanned(
    conn: duckdb.DuckDBPyConnection,
    action: str,
    order_ids: Sequence[int] | None,
    full: Sequence[Planned],
    plan: Sequence[Planned],
    forced: bool,
    *,
    named: Sequence[Outcome] = (),
    shop: str = DEFAULT_SHOP,
) -> list[Outcome]:
    """Skips, saying why, for `shop`'s orders (named, or every releasable one) not in the plan.

    `named` holds the skips already said (e.g. a retry in its backoff); without `order_ids`
    only releasable orders count (a charge names nothing it was not asked about).
    """
    said = {o.order_id: o for o in named}
    every = not order_ids
    if not order_ids:
        if action != "release":
            return list(named)
        order_ids = [c.order_id for c in ledger.releasable(conn, shop)]
    known = {c.order_id for c in ledger.orders_by_id(conn, order_ids, action, shop=shop)}
    free, planned = {p.order_id for p in full}, {p.order_id for p in plan}
    out = []
    for order_id in dict.fromkeys(int(i) for i in order_ids):
        if order_id in planned:
            continue
        if order_id in said:
            out.append(said[order_id])
            continue
        if order_id in free:
            why = "over the limit"
        elif order_id in known:
            why = _blocked(conn, action, order_id, shop)
        else:
            why = "not in the warehouse; run a sync first"
        if every and (order_id in free or why.endswith(DONE)):
            # Over a --limit the caller chose, or released already (the warehouse not synced
            # since): nothing the caller did not expect was skipped.
            continue
        out.append(Outcome(order_id, action, "skipped", why, forced))
    return out


def _blocked(conn: duckdb.DuckDBPyConnection, action: str, order_id: int, shop: str) -> str:
    """Why a known order of `shop` has no free key, and what unblocks it."""
    rows = [r for r in ledger.rows(conn, order_id, action, shop=shop) if not r["dry_run"]]
    if any(r["status"] in OPEN for r in rows):
        return (
            "an earlier attempt is still unsettled; nothing new is sent until a later run reads "
            "it back as settled or an operator settles it (see `preorders actions`)"
        )
    if action == "charge_balance":
        return (
            "already handled for these payment fields (see order_actions); a new charge only "
            "after charged_at, paid, financial_status or total_outstanding changes"
        )
    last = rows[-1] if rows else None
    why = "already handled for this version of the order (see order_actions)"
    if last is None:
        return why
    note = last["hint"] or last["note"]
    if last["status"] == "succeeded":
        return f"{why}: {DONE}"
    if last["status"] == "rejected":
        refused = f"STOQ refused it ({last['http_status']}: {note})"
        return f"{why}: {refused}; not retried until the order changes"
    if last["status"] == "failed":
        failed = sum(r["status"] == "failed" for r in rows)
        return f"{why}: gave up after {failed} failed attempts (last: {note}); release it by hand"
    return f"{why}: {last['status']}" + (f" ({note})" if note else "")
