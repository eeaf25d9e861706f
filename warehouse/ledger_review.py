"""Operator access to `order_actions`: the rows worth a look, one row by key, a verdict by hand.

    rows = ledger_review.review(conn, shop="eu")   # open rows, latest failures and refusals
    ledger_review.settle_by_operator(conn, key, "failed", by="ana", reason="not in STOQ admin",
                                     shop="eu")

Nothing is deleted: a verdict sets the status and records who (`settled_by`) and why
(`settle_reason`); the note and hint the runs wrote stay as they were. A key is unique per shop
only, so a verdict names its shop; `key_rows` finds every shop that holds a key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

from warehouse import jobs, sql
from warehouse.ledger import RACE_ERRORS
from warehouse.migrate import DEFAULT_SHOP

OPEN = ("planned", "sent", "unknown")
VERDICTS = ("succeeded", "failed")  # applied, not applied


def review(
    conn: duckdb.DuckDBPyConnection, *, open_only: bool = False, shop: str | None = None
) -> list[dict[str, Any]]:
    """Real open rows, plus each order version's latest failed / rejected / skipped row (unless
    `open_only`), oldest first, with the carrying job as last polled (`job_*` columns); of one
    shop, or of every shop (None), each row with its `shop`."""
    params = {"open_only": open_only, "terminal": sorted(jobs.TERMINAL), "shop": shop}
    return _dicts(conn.execute(sql.query("ledger_review"), params))


def row(
    conn: duckdb.DuckDBPyConnection, key: str, *, shop: str = DEFAULT_SHOP
) -> dict[str, Any] | None:
    """`shop`'s ledger row with `key` (any status, dry runs too), or None."""
    found = _dicts(conn.execute(sql.query("ledger_row"), {"key": key, "shop": shop}))
    return found[0] if found else None


def key_rows(conn: duckdb.DuckDBPyConnection, key: str) -> list[dict[str, Any]]:
    """The rows with `key` in every shop that holds it (keys are unique per shop only), by shop."""
    return _dicts(conn.execute(sql.query("ledger_row"), {"key": key, "shop": None}))


def settle_by_operator(
    conn: duckdb.DuckDBPyConnection,
    key: str,
    status: str,
    *,
    by: str,
    reason: str,
    now: datetime | None = None,
    shop: str = DEFAULT_SHOP,
) -> bool:
    """Settle `shop`'s real open row as `status` (succeeded | failed) with who and why; False
    when it was not open (settled meanwhile, a dry run, or no such key): then nothing changed."""
    if status not in VERDICTS:
        raise ValueError(f"an operator settles a row as one of {VERDICTS}, not {status!r}")
    if not by.strip() or not reason.strip():
        raise ValueError("an operator's verdict records who and why: both must be non-blank")
    params = {
        "shop": shop,
        "key": key,
        "status": status,
        "by": by.strip(),
        "reason": reason.strip(),
        "now": now or datetime.now(UTC),
    }
    try:
        return bool(conn.execute(sql.query("ledger_settle_by_operator"), params).fetchall())
    except RACE_ERRORS:  # a run settled the same row in the same instant: its verdict stands
        return False


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
