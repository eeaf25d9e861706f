"""The `order_actions` ledger: claim a key, mark it sent, settle it; never post a key twice.

    todo = ledger.next_keys(conn, "release", ledger.releasable(conn, "eu"), shop="eu")
    for item in todo:
        if ledger.claim(conn, item, shop="eu") is None:
            continue                                  # another run owns this key
        ledger.mark_sent(conn, [item.key], shop="eu")  # committed right before the POST
        ...                                   # POST, or read the order back when it is lost
        ledger.settle(conn, item.key, "succeeded", http_status=202, shop="eu")

A key is deterministic from (action, order id, the order's fingerprint as last synced, forced,
attempt). The fingerprint covers only what the action depends on (payment fields for a charge),
so a tag or updated_at change never opens a new key; an open row blocks any new key for its order.
Attempt 1.. exists only after every earlier attempt was settled `failed` (proved not
applied), so two runs computing the next key agree on it and the primary key lets one of them win.
Every statement here autocommits: each write is its own short transaction.

A key is unique per shop only (primary key (shop, key)): every function here takes `shop`
(default `default`) and acts on that shop's rows, matched on (shop, key), never the key alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd

from warehouse import sql
from warehouse.migrate import DEFAULT_SHOP

ACTIONS = ("release", "charge_balance")
STATUSES = ("planned", "sent", "succeeded", "rejected", "failed", "unknown", "skipped")
SETTLED = frozenset({"succeeded", "rejected", "failed", "skipped"})

#: Errors DuckDB raises when two transactions race for the same row.
RACE_ERRORS = (duckdb.TransactionException, duckdb.ConstraintException)


@dataclass(frozen=True)
class Candidate:
    """An order the warehouse says could be acted on, as last synced."""

    order_id: int
    fingerprint: str
    # Where the order sits in a created-at window (batched re-reads); not part of its identity.
    created_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Planned:
    """A candidate with the key its next attempt would use."""

    order_id: int
    fingerprint: str
    action: str
    key: str
    attempt: int = 0
    forced: bool = False
    created_at: datetime | None = field(default=None, compare=False)
    # The earlier attempts of a retry (attempt > 0), all `failed`: for the caller's backoff.
    last_failure: Failure | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Failure:
    """The last of an order's failed attempts, and whether any of them was a refusal (4xx)."""

    at: datetime
    note: str | None
    http_status: int | None
    refused: bool
    by_operator: bool = False  # the last was an operator's "not applied": no backoff after it


@dataclass(frozen=True)
class OpenRow:
    """A real row an earlier run left unsettled."""

    key: str
    order_id: int
    action: str
    status: str
    forced: bool
    job_id: str | None
    created_at: datetime | None = field(default=None, compare=False)
    sent_at: datetime | None = field(default=None, compare=False)
    bulk: bool = False


def action_key(action: str, order_id: int, fingerprint: str, forced: bool, attempt: int) -> str:
    """The deterministic key of one attempt at one action on one version of an order."""
    text = f"{action}|{int(order_id)}|{fingerprint}|{'forced' if forced else 'plain'}|{attempt}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _candidates(conn: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[Candidate]:
    rows = conn.execute(sql.query(name), params).fetchall()
    return [Candidate(int(order_id), str(fp), created) for order_id, fp, created in rows]


def releasable(conn: duckdb.DuckDBPyConnection, shop: str = DEFAULT_SHOP) -> list[Candidate]:
    """The shop's orders in the `releasable_orders` view, oldest first."""
    return _candidates(conn, "ledger_releasable", shop=shop)


def awaiting_balance(
    conn: duckdb.DuckDBPyConnection, offer_id: str | None = None, shop: str = DEFAULT_SHOP
) -> list[Candidate]:
    """The shop's orders with a balance outstanding, oldest first, optionally for one offer."""
    return _candidates(conn, "ledger_awaiting_balance", offer_id=offer_id, shop=shop)


def orders_by_id(
    conn: duckdb.DuckDBPyConnection,
    order_ids: Iterable[int],
    action: str = "release",
    shop: str = DEFAULT_SHOP,
) -> list[Candidate]:
    """The named orders the warehouse knows (any state), oldest first, fingerprinted for action."""
    _check_action(action)
    ids = sorted({int(i) for i in order_ids})
    if not ids:
        return []
    return _candidates(conn, "ledger_orders_by_id", ids=ids, action=action, shop=shop)


def known_created(conn: duckdb.DuckDBPyConnection, shop: str = DEFAULT_SHOP) -> list[datetime]:
    """created_at of the shop's orders the API still returns, oldest first (window walk costs)."""
    rows = conn.execute(sql.query("ledger_known_created"), {"shop": shop}).fetchall()
    return [row[0] for row in rows]


def open_orders_count(conn: duckdb.DuckDBPyConnection, shop: str = DEFAULT_SHOP) -> int:
    """The shop's open preorder orders: the backlog the release breaker compares against."""
    row = conn.execute(sql.query("ledger_open_orders_count"), {"shop": shop}).fetchone()
    return int(row[0]) if row else 0


def next_keys(
    conn: duckdb.DuckDBPyConnection,
    action: str,
    candidates: Sequence[Candidate],
    *,
    forced: bool = False,
    max_attempts: int = 1,
    shop: str = DEFAULT_SHOP,
) -> list[Planned]:
    """`shop`'s candidates whose next key is free (in input order), each with that key; a retry
    carries its last failure, so the caller can apply its backoff before sending it."""
    _check_action(action)
    if not candidates:
        return []
    frame = pd.DataFrame(
        {
            "order_id": pd.Series([c.order_id for c in candidates], dtype="int64"),
            "fingerprint": pd.Series([c.fingerprint for c in candidates], dtype="object"),
            "pos": pd.Series(range(len(candidates)), dtype="int64"),
        }
    )
    conn.register("_ledger_candidates", frame)
    try:
        rows = conn.execute(
            sql.query("ledger_next_attempts"),
            {"action": action, "forced": forced, "max_attempts": max_attempts, "shop": shop},
        ).fetchall()
    finally:
        conn.unregister("_ledger_candidates")
    created = {c.order_id: c.created_at for c in candidates}
    return [
        Planned(
            int(order_id),
            str(fp),
            action,
            action_key(action, order_id, fp, forced, attempt),
            int(attempt),
            forced,
            created.get(int(order_id)),
            Failure(at, note, status, bool(refused), bool(by_op)) if attempt else None,
        )
        for order_id, fp, attempt, at, note, status, refused, by_op in rows
    ]


def claim(
    conn: duckdb.DuckDBPyConnection,
    item: Planned,
    *,
    force_reason: str | None = None,
    dry_run: bool = False,
    run_id: str | None = None,
    now: datetime | None = None,
    shop: str = DEFAULT_SHOP,
) -> str | None:
    """Commit the `planned` row; return its key, or None when another run owns the key (a dry
    run's row gets a random key of its own, so it never blocks a real run)."""
    key = f"dry-{uuid.uuid4().hex}" if dry_run else item.key
    params = {
        "shop": shop,
        "key": key,
        "order_id": item.order_id,
        "action": item.action,
        "attempt": item.attempt,
        "forced": item.forced,
        "force_reason": force_reason,
        "dry_run": dry_run,
        "run_id": run_id,
        "fingerprint": item.fingerprint,
        "now": _now(now),
    }
    try:
        row = conn.execute(sql.query("ledger_claim"), params).fetchone()
    except RACE_ERRORS:
        return None  # a concurrent transaction inserted the same key first
    return str(row[0]) if row else None


def unclaim(conn: duckdb.DuckDBPyConnection, key: str, *, shop: str = DEFAULT_SHOP) -> None:
    """Drop a `planned` row that was never sent, so the next run may try the same key."""
    with contextlib.suppress(duckdb.TransactionException):
        conn.execute(sql.query("ledger_unclaim"), {"key": key, "shop": shop})


def mark_sent(
    conn: duckdb.DuckDBPyConnection,
    keys: Sequence[str],
    *,
    job_id: str | None = None,
    bulk: bool = False,
    now: datetime | None = None,
    shop: str = DEFAULT_SHOP,
) -> set[str]:
    """Move planned rows to `sent` (committed before the request); return the keys moved."""
    if not keys:
        return set()
    params = {"keys": list(keys), "now": _now(now), "job_id": job_id, "bulk": bulk, "shop": shop}
    return {str(r[0]) for r in conn.execute(sql.query("ledger_mark_sent"), params).fetchall()}


def attach_job(
    conn: duckdb.DuckDBPyConnection, keys: Sequence[str], job_id: str, *, shop: str = DEFAULT_SHOP
) -> None:
    """Record the bulk job carrying sent rows (right after submission, before the first poll)."""
    if keys:
        params = {"keys": list(keys), "job_id": job_id, "shop": shop}
        conn.execute(sql.query("ledger_attach_job"), params)


def settle(
    conn: duckdb.DuckDBPyConnection,
    key: str,
    status: str,
    *,
    http_status: int | None = None,
    hint: str | None = None,
    note: str | None = None,
    job_id: str | None = None,
    now: datetime | None = None,
    shop: str = DEFAULT_SHOP,
) -> None:
    """Record the outcome of an open row (`unknown` keeps it open for a later read-back)."""
    if status not in SETTLED and status != "unknown":
        raise ValueError(f"cannot settle a row as {status!r}")
    params = {
        "shop": shop,
        "key": key,
        "status": status,
        "http_status": http_status,
        "hint": hint,
        "note": note,
        "job_id": job_id,
        "now": _now(now),
    }
    # Another run may settle the same stale row from the same read-back at the same time.
    with contextlib.suppress(duckdb.TransactionException):
        conn.execute(sql.query("ledger_settle"), params)


def unsettled(
    conn: duckdb.DuckDBPyConnection,
    action: str | None = None,
    *,
    stale_after: timedelta = timedelta(minutes=5),
    now: datetime | None = None,
    shop: str = DEFAULT_SHOP,
) -> list[OpenRow]:
    """Rows to settle first: `unknown`, plus `sent`/`planned` rows older than stale_after."""
    params = {"action": action, "stale_before": _now(now) - stale_after, "shop": shop}
    rows = conn.execute(sql.query("ledger_unsettled"), params).fetchall()
    return [
        OpenRow(str(k), int(o), str(a), str(s), bool(f), j, c, sent, bool(b))
        for k, o, a, s, f, j, c, sent, b in rows
    ]


def rows(
    conn: duckdb.DuckDBPyConnection,
    order_id: int | None = None,
    action: str | None = None,
    *,
    shop: str | None = DEFAULT_SHOP,
) -> list[dict[str, Any]]:
    """Ledger rows as dicts, oldest first (`shop` None: every shop's, each with its `shop`)."""
    params = {"order_id": order_id, "action": action, "shop": shop}
    cursor = conn.execute(sql.query("ledger_rows"), params)
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
