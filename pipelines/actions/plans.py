"""Plans: which orders an action would handle now, from the warehouse alone (no requests)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from pipelines.actions.outcomes import Outcome
from pipelines.actions.rules import ActionSettings
from warehouse import ledger
from warehouse.ledger import Planned

OPEN = frozenset({"planned", "sent", "unknown"})


def plan_release(
    conn: duckdb.DuckDBPyConnection,
    limit: int | None = None,
    order_ids: Sequence[int] | None = None,
    *,
    force: bool = False,
    max_attempts: int = ActionSettings.max_attempts,
) -> list[Planned]:
    """Releasable orders (or the named ones) whose next ledger key is free, oldest first."""
    found = ledger.orders_by_id(conn, order_ids) if order_ids else ledger.releasable(conn)
    todo = ledger.next_keys(conn, "release", found, forced=force, max_attempts=max_attempts)
    return todo[:limit] if limit else todo


def plan_charges(
    conn: duckdb.DuckDBPyConnection,
    limit: int | None = None,
    order_ids: Sequence[int] | None = None,
    *,
    offer_id: str | None = None,
) -> list[Planned]:
    """Orders awaiting their balance (or the named ones) not yet charged for this version."""
    if order_ids:
        found = ledger.orders_by_id(conn, order_ids, "charge_balance")
    else:
        found = ledger.awaiting_balance(conn, offer_id=offer_id)
    todo = ledger.next_keys(conn, "charge_balance", found, max_attempts=1)
    return todo[:limit] if limit else todo


def unplanned(
    conn: duckdb.DuckDBPyConnection,
    action: str,
    order_ids: Sequence[int] | None,
    full: Sequence[Planned],
    plan: Sequence[Planned],
    forced: bool,
) -> list[Outcome]:
    """Skips for named orders that are not in the plan, saying why."""
    if not order_ids:
        return []
    known = {c.order_id for c in ledger.orders_by_id(conn, order_ids, action)}
    free, planned = {p.order_id for p in full}, {p.order_id for p in plan}
    out = []
    for order_id in dict.fromkeys(int(i) for i in order_ids):
        if order_id in planned:
            continue
        if order_id in free:
            why = "over the limit"
        elif order_id in known:
            why = _blocked(conn, action, order_id)
        else:
            why = "not in the warehouse; run a sync first"

        out.append(Outcome(order_id, action, "skipped", why, forced))
    return out


def _blocked(conn: duckdb.DuckDBPyConnection, action: str, order_id: int) -> str:
    """Why a known order has no free key, and what unblocks it."""
    rows = ledger.rows(conn, order_id, action)
    if any(r["status"] in OPEN and not r["dry_run"] for r in rows):
        return (
            "an earlier attempt is still unsettled (see order_actions); "
            "nothing new is sent until a later run reads it back as settled"
        )
    if action == "charge_balance":
        return (
            "already handled for these payment fields (see order_actions); a new charge only "
            "after charged_at, paid, financial_status or total_outstanding changes"
        )
    return "already handled for this version of the order (see order_actions)"
