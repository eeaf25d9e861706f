"""The ledger as an operator sees it: each row worth a look, why it is there, what unblocks it.

    for entry in entries(conn, ("unknown",), settings):     # reads only, no request
        print(entry.shop, entry.key, entry.why, entry.unblock)
    waits(conn, "release", settings, shop="eu")  # ["13 orders wait until 14:05 UTC (...)"]

`entries` reads one shop's rows (`shop`), or every shop's (None), each entry saying its shop;
`waits` is one shop's, as a run is.

The statuses an operator sees (`preorders actions --status`), from the ledger's own:
    open     planned: a run claimed the order and has sent nothing yet
    sent     sent: the request went out and its answer is not recorded yet
    unknown  unknown: the outcome is not known yet (a lost answer, a bulk job that may still act,
             a charge STOQ may still apply); a later run judges it, or an operator settles it
    failed   failed: not applied; shown while it is the last attempt on an order that still waits
             for the action in the same version (sent again after its backoff, or given up)
    blocked  rejected (STOQ refused it) or skipped (the order, re-read, did not qualify); shown
             while it holds back an order that still waits for the action in the same version
Dry-run rows block nothing and never show; other settled rows are history (`order_actions`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from preorders.actions.explain import Plans, at, job_state, open_reason, settled_reason
from preorders.actions.rules import DEFAULT_SETTINGS, ActionSettings
from warehouse import jobs, ledger_review
from warehouse.migrate import DEFAULT_SHOP

STATUSES = ("open", "sent", "unknown", "failed", "blocked")
WORDS = {"planned": "open", "sent": "sent", "unknown": "unknown", "failed": "failed",
         "rejected": "blocked", "skipped": "blocked"}  # fmt: skip
OPEN_WORDS = ("open", "sent", "unknown")


@dataclass(frozen=True)
class Entry:
    """One ledger row as an operator sees it (`waits_on` and `until`: open rows only)."""

    key: str
    order_id: int
    action: str
    status: str  # open | sent | unknown | failed | blocked
    ledger_status: str
    attempt: int
    forced: bool
    planned_at: datetime
    sent_at: datetime | None
    job_id: str | None
    why: str
    unblock: str
    waits_on: str = ""  # what an open row waits on (a run's summary groups by it)
    until: datetime | None = None  # when a clock decides it, if one does
    settled_by: str | None = None
    settle_reason: str | None = None
    shop: str = DEFAULT_SHOP  # the shop whose ledger holds the row (keys are unique per shop)


def entries(
    conn: duckdb.DuckDBPyConnection,
    statuses: Iterable[str] | None = None,
    settings: ActionSettings = DEFAULT_SETTINGS,
    now: datetime | None = None,
    *,
    shop: str | None = None,
) -> list[Entry]:
    """`shop`'s rows (None: every shop's) in `statuses` (default: all five), oldest first, each
    with its shop, why and what unblocks it; failed and blocked rows only while their order
    still waits for the action in that shop."""
    wanted = set(statuses or STATUSES)
    if wanted - set(STATUSES):
        raise ValueError(f"a status is one of {', '.join(STATUSES)}")
    now = now or datetime.now(UTC)
    settled = not wanted <= set(OPEN_WORDS)
    plans: dict[str, Plans] = {}  # per shop, read once a settled row of that shop needs it
    out = []
    for row in ledger_review.review(conn, open_only=not settled, shop=shop):
        if WORDS[row["status"]] not in wanted:
            continue
        if row["status"] in ledger_review.OPEN:
            out.append(_entry(row, *open_reason(row, settings, now)))
            continue
        where = row["shop"]
        if where not in plans:
            plans[where] = Plans.read(conn, settings, now, shop=where)
        if plans[where].holds_back(row):
            out.append(_entry(row, *settled_reason(row, plans[where], settings)))
    return out


def waits(
    conn: duckdb.DuckDBPyConnection,
    action: str,
    settings: ActionSettings = DEFAULT_SETTINGS,
    now: datetime | None = None,
    *,
    shop: str = DEFAULT_SHOP,
) -> list[str]:
    """What `shop`'s open rows of `action` wait on and until when, one line per cause; for
    releases also each of its bulk jobs in flight that carries none of them. Empty: nothing
    waits."""
    now = now or datetime.now(UTC)
    groups: dict[str, list[Entry]] = {}
    for entry in entries(conn, OPEN_WORDS, settings, now, shop=shop):
        if entry.action == action:
            groups.setdefault(entry.waits_on, []).append(entry)
    lines = []
    for on, group in groups.items():
        until = max((e.until for e in group if e.until is not None), default=None)
        count = f"{len(group)} orders wait" if len(group) != 1 else "1 order waits"
        lines.append(f"{count} until {at(until, now)} ({on})" if until else f"{count} on {on}")
    if action == "release":
        carried = {e.job_id for group in groups.values() for e in group}
        for job in jobs.open_jobs(conn, shop=shop):
            if job["kind"] == "bulk_release" and job["job_id"] not in carried:
                lines.append(f"bulk job {job['job_id']} in flight ({job_state(job)})")
    return lines


def as_lines(found: Sequence[Entry], now: datetime | None = None) -> list[str]:
    """Rows grouped by status (in STATUSES order): a heading, then per row a line and its
    why and unblock lines; one line when there is nothing to show. Each row's line names its
    shop unless every row is shop `default`'s (one shop, as before shops)."""
    now = now or datetime.now(UTC)
    if not found:
        return ["no ledger row is open, failed or blocked"]
    named = any(e.shop != DEFAULT_SHOP for e in found)
    lines: list[str] = []
    for status in STATUSES:
        group = [e for e in found if e.status == status]
        if group:
            lines.append(f"{status} ({len(group)})")
            lines += [line for e in group for line in _entry_lines(e, now, named)]
    return lines


def as_dict(found: Sequence[Entry], now: datetime | None = None) -> dict[str, Any]:
    """The same rows as one JSON-ready object: counts and rows per status, times in ISO 8601."""
    now = now or datetime.now(UTC)
    rows = {s: [_json(e) for e in found if e.status == s] for s in STATUSES}
    return {"at": now.isoformat(), "counts": {s: len(r) for s, r in rows.items()}, "rows": rows}


def _entry(row: dict[str, Any], why: str, unblock: str, on: str, until: datetime | None) -> Entry:
    return Entry(
        key=row["key"], order_id=int(row["order_id"]), action=row["action"],
        status=WORDS[row["status"]], ledger_status=row["status"], attempt=int(row["attempt"]),
        forced=bool(row["forced"]), planned_at=row["planned_at"], sent_at=row["sent_at"],
        job_id=row["job_id"], why=why, unblock=unblock, waits_on=on, until=until,
        settled_by=row["settled_by"], settle_reason=row["settle_reason"], shop=row["shop"],
    )  # fmt: skip


def _entry_lines(e: Entry, now: datetime, named: bool = False) -> list[str]:
    sent = f"sent {at(e.sent_at, now)}" if e.sent_at else "not sent"
    head = (
        f"  {e.key}  order {e.order_id}  {e.action}{' (forced)' if e.forced else ''}  "
        f"attempt {e.attempt}  {sent}  job {e.job_id or '-'}"
    ) + (f"  shop {e.shop}" if named else "")
    return [head, f"      why: {e.why}", f"      unblocks: {e.unblock}"]


def _json(e: Entry) -> dict[str, Any]:
    out = asdict(e)
    for name in ("planned_at", "sent_at", "until"):
        when = out[name]
        out[name] = None if when is None else when.astimezone(UTC).isoformat()
    return out
