"""Plans: which orders an action would handle now, from the warehouse alone (no requests)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from pipelines.actions.outcomes import Outcome
from pipelines.actions.rules import ActionSettings
from warehouse import ledger
from warehouse.ledger import Planned


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
        found = ledger.orders_by_id(conn, order_ids)
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
    known = {c.order_id for c in ledger.orders_by_id(conn, order_ids)}
    free, planned = {p.order_id for p in full}, {p.order_id for p in plan}
    out = []
    for order_id in dict.fromkeys(int(i) for i in order_ids):
        if order_id in planned:
            continue
        if order_id in free:
            why = "over the limit"
        elif order_id in known:
            why = "already handled for this version of the order (see order_actions)"
        else:
            why = "not in the warehouse; run a sync first"

        out.append(Outcome(order_id, action, "skipped", why, forced))
    return out
