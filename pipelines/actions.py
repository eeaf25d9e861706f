"""Release held orders and charge balances exactly once, through the `order_actions` ledger.

Plain Python, no Dagster: the `release_orders` / `collect_balances` jobs and the `preorders
release` / `preorders charge` commands all call these functions.

    plan = plan_release(conn, limit=10)                      # what would go out (no writes)
    outcomes = release_orders(client, conn, dry_run=False)   # list[Outcome], one per order

Per order: the `planned` row is committed (the claim: a key another run holds is skipped), the
order is read again and skipped unless it is still held and fully paid, the row is committed as
`sent`, then the POST goes out. A lost response (timeout, dropped connection, 5xx) is settled by
reading the order back, never by posting again; rows an earlier run left open are settled that
way before anything new is sent. Many orders go out as one `bulk_release` job (persisted in
`jobs` before polling), after which every order of the batch is read back, because the job
swallows per-item failures. `force` is sent only when asked for with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import duckdb

from pipelines.jobtracking import batch_key, submit_or_attach, track_job
from stoq import StoqClient, errors
from warehouse import ledger
from warehouse.ledger import Planned

RELEASED = frozenset({"released", "fulfilled"})
FORCEABLE = frozenset({"placed", "awaiting_balance", "balance_collected"})
NOT_APPLIED = "not applied (read back)"

Log = Callable[[str], None]


@dataclass(frozen=True)
class ActionSettings:
    """Knobs shared by the CLI and the jobs."""

    bulk_threshold: int = 20  # this many orders or more go out as one bulk_release job
    max_attempts: int = 2  # release keys per order version; a new one only after NOT_APPLIED
    stale_after: timedelta = timedelta(minutes=5)  # younger sent/planned rows may be in flight
    job_timeout: float = 600.0
    job_stall_timeout: float = 120.0
    job_initial_interval: float = 1.0


@dataclass(frozen=True)
class Outcome:
    """One order's result: planned (dry run), succeeded, rejected, failed, unknown, skipped."""

    order_id: int
    action: str
    status: str
    detail: str = ""
    forced: bool = False
    dry_run: bool = False
    job_id: str | None = None

    def line(self) -> str:
        """One human line; never the ledger key."""
        verb = "charge" if self.action == "charge_balance" else self.action
        text = f"order {self.order_id}: {verb} {self.status}"
        if self.dry_run:
            text += " (dry run)"
        if self.forced:
            text += " (forced)"
        if self.job_id:
            text += f" [job {self.job_id}]"
        return f"{text}: {self.detail}" if self.detail else text


class ForceWithoutReason(ValueError):
    """Raised when force is asked for without a reason to record."""


@dataclass(frozen=True)
class _Spec:
    action: str
    check: Callable[[dict[str, Any], bool], str | None]  # live order, forced -> skip reason
    applied: Callable[[dict[str, Any]], bool]  # read back: did the write take effect?
    send: Callable[[StoqClient, int, bool], dict[str, Any]]


def money(order: dict[str, Any], field: str = "total_outstanding") -> Decimal | None:
    """A payments amount as a Decimal, None when absent or unreadable."""
    value = (order.get("payments") or {}).get(field)
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def release_blocker(order: dict[str, Any], forced: bool = False) -> str | None:
    """Why a live order must not be released now (None: held and fully paid, or forceable)."""
    state = order.get("state")
    if order.get("cancelled_at") or state == "cancelled":
        return "the order is cancelled"
    if order.get("financial_status") in ("refunded", "partially_refunded") or state == "refunded":
        return "money was refunded; release it by hand"
    if forced:
        return None if state in FORCEABLE else f"the order is {state}"
    if state != "balance_collected":
        return f"not held and fully paid (state {state})"
    if money(order) != 0:
        return "a balance is outstanding"
    return None


def charge_blocker(order: dict[str, Any], forced: bool = False) -> str | None:
    """Why a live order's balance must not be charged now (None: charge it)."""
    state = order.get("state")
    if state != "awaiting_balance":
        return f"no balance to charge (state {state})"
    outstanding = money(order)
    if outstanding is None or outstanding <= 0:
        return "nothing outstanding"
    return None


RELEASE = _Spec(
    "release",
    release_blocker,
    lambda o: o.get("state") in RELEASED,
    lambda client, order_id, forced: client.release_order(order_id, force=forced),
)
CHARGE = _Spec(
    "charge_balance",
    charge_blocker,
    lambda o: money(o) == 0,
    lambda client, order_id, _forced: client.charge_balance(order_id),
)
SPECS = {s.action: s for s in (RELEASE, CHARGE)}


# -- plans (warehouse only, no requests) ---------------------------------------------------------


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


# -- runs ----------------------------------------------------------------------------------------


def release_orders(
    client: StoqClient | None,
    conn: duckdb.DuckDBPyConnection,
    order_ids: Sequence[int] | None = None,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    force: bool = False,
    reason: str | None = None,
    run_id: str | None = None,
    settings: ActionSettings = ActionSettings(),
    log: Log | None = None,
) -> list[Outcome]:
    """Settle open release rows, then release what `plan_release` returns; one Outcome each.

    A dry run sends nothing (client may be None): it writes `planned` rows with dry_run=true.
    """
    reason = (reason or "").strip() or None
    if force and reason is None:
        raise ForceWithoutReason("force needs a reason (it is recorded in the ledger)")
    return _plan_and_run(
        client, conn, RELEASE, order_ids, dry_run, limit, reason if force else None, run_id,
        settings, log, force=force,
    )  # fmt: skip


def collect_balances(
    client: StoqClient | None,
    conn: duckdb.DuckDBPyConnection,
    order_ids: Sequence[int] | None = None,
    *,
    offer_id: str | None = None,
    dry_run: bool = True,
    limit: int | None = None,
    run_id: str | None = None,
    settings: ActionSettings = ActionSettings(),
    log: Log | None = None,
) -> list[Outcome]:
    """Settle open charge rows, then charge the balance of each planned order (dry run default).

    Charges are never retried automatically: a charge read back as not applied keeps its key
    until the order changes, because a card charge may still land after the read.
    """
    return _plan_and_run(
        client, conn, CHARGE, order_ids, dry_run, limit, None, run_id, settings, log,
        offer_id=offer_id,
    )  # fmt: skip


def _plan_and_run(
    client: StoqClient | None,
    conn: duckdb.DuckDBPyConnection,
    spec: _Spec,
    order_ids: Sequence[int] | None,
    dry_run: bool,
    limit: int | None,
    force_reason: str | None,
    run_id: str | None,
    settings: ActionSettings,
    log: Log | None,
    *,
    force: bool = False,
    offer_id: str | None = None,
) -> list[Outcome]:
    dry_run = dry_run or client is None
    done = [] if dry_run else settle_open_rows(client, conn, spec.action, settings, log=log)
    if spec is RELEASE:
        full = plan_release(conn, None, order_ids, force=force, max_attempts=settings.max_attempts)
    else:
        full = plan_charges(conn, None, order_ids, offer_id=offer_id)
    plan = full[:limit] if limit else full
    done += _unplanned(conn, spec.action, order_ids, full, plan, force)
    return done + _run(client, conn, spec, plan, dry_run, force_reason, run_id, settings, log)


def settle_open_rows(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    action: str | None = None,
    settings: ActionSettings = ActionSettings(),
    *,
    log: Log | None = None,
) -> list[Outcome]:
    """Settle rows earlier runs left open: planned -> failed (never sent), others by read-back."""
    out = []
    for row in ledger.unsettled(conn, action, stale_after=settings.stale_after):
        spec = SPECS[row.action]
        if row.status == "planned":  # claimed, never sent: give the claim back
            ledger.unclaim(conn, row.key)
            note = "an earlier run stopped before sending; planned again"
            out.append(Outcome(row.order_id, row.action, "skipped", note, row.forced))
        else:
            out.append(
                _read_back(client, conn, spec, row.key, row.order_id, row.forced, row.job_id)
            )
    for outcome in out:
        _say(log, f"settled from an earlier run: {outcome.line()}")
    return out


def _unplanned(
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


def _run(
    client: StoqClient | None,
    conn: duckdb.DuckDBPyConnection,
    spec: _Spec,
    plan: Sequence[Planned],
    dry_run: bool,
    force_reason: str | None,
    run_id: str | None,
    settings: ActionSettings,
    log: Log | None,
) -> list[Outcome]:
    out: list[Outcome] = []
    ready: list[Planned] = []
    for item in plan:
        key = ledger.claim(conn, item, force_reason=force_reason, dry_run=dry_run, run_id=run_id)
        if dry_run:
            out.append(Outcome(item.order_id, spec.action, "planned", "", item.forced, True))
        elif key is None:
            out.append(Outcome(item.order_id, spec.action, "skipped", "another run is handling it"))
        else:
            ready.append(item)
    live: list[Planned] = []
    for item in ready if client is not None else []:
        skipped = _pre_read(client, conn, spec, item)
        if skipped is None:
            live.append(item)
        else:
            out.append(skipped)
    if spec is RELEASE and live and len(live) >= max(1, settings.bulk_threshold):
        out += _send_bulk(client, conn, live, run_id, settings, log)
    else:
        out += [_send_one(client, conn, spec, item) for item in live]
    for outcome in out:
        _say(log, outcome.line())
    return out


def _pre_read(
    client: StoqClient, conn: duckdb.DuckDBPyConnection, spec: _Spec, item: Planned
) -> Outcome | None:
    """Read the order just before acting; an Outcome when it must be skipped (row settled)."""
    try:
        order = client.get_order(item.order_id)
    except errors.NotFound:
        return _settle(conn, item, spec.action, "skipped", note="order not found (404)")
    except errors.StoqError as exc:
        ledger.unclaim(conn, item.key)  # nothing was sent: the next run may try again
        if isinstance(exc, errors.Unauthorized):
            raise
        note = f"not sent: the order could not be read ({type(exc).__name__}); retried next run"
        return Outcome(item.order_id, spec.action, "skipped", note, item.forced)
    blocker = spec.check(order, item.forced)
    if blocker is not None:
        return _settle(conn, item, spec.action, "skipped", note=blocker)
    return None


def _send_one(
    client: StoqClient, conn: duckdb.DuckDBPyConnection, spec: _Spec, item: Planned
) -> Outcome:
    if item.key not in ledger.mark_sent(conn, [item.key]):
        return Outcome(item.order_id, spec.action, "skipped", "another run settled it")
    try:
        result = spec.send(client, item.order_id, item.forced)
    except errors.Conflict as exc:
        return _settle(conn, item, spec.action, "rejected", http_status=409, hint=exc.hint)
    except (errors.WriteOutcomeUnknown, errors.MalformedResponse) as exc:
        why = exc.reason if isinstance(exc, errors.WriteOutcomeUnknown) else str(exc)
        return _read_back(client, conn, spec, item.key, item.order_id, item.forced, None, why)
    except errors.ApiError as exc:  # 4xx or 429 after every retry: the server refused it
        hint = "; ".join(exc.messages) or None
        return _settle(conn, item, spec.action, "failed", http_status=exc.status, hint=hint,
                       note=f"not applied ({exc.status})")  # fmt: skip
    except errors.TransportError:  # the request provably never reached the server
        return _settle(conn, item, spec.action, "failed", note="not sent (connection failed)")
    note = "" if spec.applied(result) else f"accepted; order now {result.get('state')}"
    return _settle(conn, item, spec.action, "succeeded", http_status=202, note=note or None)


def _send_bulk(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    items: Sequence[Planned],
    run_id: str | None,
    settings: ActionSettings,
    log: Log | None,
) -> list[Outcome]:
    """One bulk_release job for the batch, then every order read back (items fail silently)."""
    sent = ledger.mark_sent(conn, [i.key for i in items])
    items = [i for i in items if i.key in sent]
    if not items:
        return []
    forced = items[0].forced
    key = batch_key("bulk_release", keys=sorted(i.key for i in items))
    job_id, still_running, why = None, False, "bulk job"
    try:
        handle = submit_or_attach(
            client,
            conn,
            key,
            lambda: client.bulk_release([i.order_id for i in items], force=forced),
            "bulk_release",
            run_id=run_id,
            log=log,
        )
        job_id = handle.job_id
        track_job(
            client,
            conn,
            handle,
            kind="bulk_release",
            batch_key=key,
            run_id=run_id,
            timeout=settings.job_timeout,
            stall_timeout=settings.job_stall_timeout,
            initial_interval=settings.job_initial_interval,
        )
    except errors.WriteOutcomeUnknown:
        # The job may exist and run later: leave the rows open rather than ever re-posting now.
        still_running, why = True, "bulk submission outcome unknown"
    except errors.JobTimeout as exc:
        still_running, why = True, f"bulk job still running ({exc})"
    except errors.StoqError as exc:  # submit refused or lost, job failed/cancelled/expired
        why = f"bulk job: {type(exc).__name__}"
        _say(log, f"bulk release did not complete cleanly: {exc}")
    return [
        _read_back(client, conn, RELEASE, i.key, i.order_id, forced, job_id, why, still_running)
        for i in items
    ]


def _read_back(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    spec: _Spec,
    key: str,
    order_id: int,
    forced: bool,
    job_id: str | None,
    why: str = "outcome unknown",
    still_running: bool = False,
) -> Outcome:
    """Settle a sent row from what the order shows now; `unknown` when it cannot be read."""

    def done(status: str, note: str) -> Outcome:
        ledger.settle(conn, key, status, note=note, job_id=job_id)
        return Outcome(order_id, spec.action, status, note, forced, job_id=job_id)

    try:
        order = client.get_order(order_id)
    except errors.StoqError as exc:
        return done("unknown", f"{why}; read-back failed ({type(exc).__name__})")
    if spec.applied(order):
        return done("succeeded", f"applied (read back after {why})")
    if still_running:
        return done("unknown", f"{why}; not applied yet")
    blocker = spec.check(order, forced)
    if job_id is not None and blocker is not None:
        # A swallowed per-item failure whose cause the order shows: a business outcome.
        return done("rejected", f"{NOT_APPLIED}: {blocker}")
    return done("failed", NOT_APPLIED)


def _settle(
    conn: duckdb.DuckDBPyConnection,
    item: Planned,
    action: str,
    status: str,
    *,
    http_status: int | None = None,
    hint: str | None = None,
    note: str | None = None,
) -> Outcome:
    ledger.settle(conn, item.key, status, http_status=http_status, hint=hint, note=note)
    return Outcome(item.order_id, action, status, hint or note or "", item.forced)


def _say(log: Log | None, message: str) -> None:
    if log is not None:
        log(message)
