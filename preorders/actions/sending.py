"""Sending: one POST per order or one bulk_release job, each settled in the ledger.

A lost response is settled by reading the order back (`read_back`, one GET), never by posting
again; a whole batch is read back at once (`read_back_rows`, a window walk and/or GETs).
`shop` names the shop whose client is passed: every ledger and jobs row read or written is its.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import Any

import duckdb

from preorders.actions.outcomes import Log, Outcome, say
from preorders.actions.reads import OrderReads, read_rows
from preorders.actions.rules import DEFAULT_SETTINGS, NOT_APPLIED, SPECS, ActionSettings, Spec
from preorders.jobtracking import batch_key, may_still_act, submit_or_attach
from preorders.progress import Progress
from stoq import StoqClient, errors
from warehouse import ledger
from warehouse.ledger import OpenRow, Planned
from warehouse.migrate import DEFAULT_SHOP


def send_one(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    spec: Spec,
    item: Planned,
    settings: ActionSettings = DEFAULT_SETTINGS,
    *,
    shop: str = DEFAULT_SHOP,
) -> Outcome:
    """Mark the row sent, POST once, settle it from the answer (read back when it is lost)."""
    if item.key not in ledger.mark_sent(conn, [item.key], shop=shop):
        return Outcome(item.order_id, spec.action, "skipped", "another run settled it")
    row = OpenRow(item.key, item.order_id, spec.action, "sent", item.forced, None, item.created_at)
    # Just sent: a write that may settle later is still pending unless the hold is zero.
    pending = spec.settles_later and settings.charge_pending_hold > timedelta(0)
    try:
        result = spec.send(client, item.order_id, item.forced)
    except errors.Conflict as exc:
        return settle(
            conn, item, spec.action, "rejected", http_status=409, hint=exc.hint, shop=shop
        )
    except (errors.WriteOutcomeUnknown, errors.MalformedResponse) as exc:
        why = exc.reason if isinstance(exc, errors.WriteOutcomeUnknown) else str(exc)
        return read_back(client, conn, spec, row, why, pending, settings, shop=shop)
    except errors.ApiError as exc:  # 4xx or 429 after every retry: the server refused it
        if 300 <= exc.status < 400:  # a redirect, never followed: it may have acted first
            why = f"answered {exc.status} (a redirect, not followed)"
            return read_back(client, conn, spec, row, why, pending, settings, shop=shop)
        hint = "; ".join(exc.messages) or None
        return settle(conn, item, spec.action, "failed", http_status=exc.status, hint=hint,
                       note=f"not applied ({exc.status})", shop=shop)  # fmt: skip
    except errors.TransportError:  # the request provably never reached the server
        return settle(
            conn, item, spec.action, "failed", note="not sent (connection failed)", shop=shop
        )
    status = getattr(result, "status", None)  # the client's Written carries the real status
    if spec.settles_later and not spec.applied(result):
        # Accepted, effect still to come (SPEC §3.4): read it back later, never send it again.
        note = _accepted(spec, result)
        ledger.settle(conn, item.key, "unknown", http_status=status, note=note, shop=shop)
        return Outcome(item.order_id, spec.action, "unknown", note, item.forced)
    if not spec.applied(result):
        # Answered 2xx with the order as it is, not as the write left it: nothing took effect,
        # so the row fails (a later run may try again, within max_attempts) instead of being
        # called done while the order stays held.
        note = f"answered {status} but not applied: order now {result.get('state')}"
        return settle(conn, item, spec.action, "failed", http_status=status, note=note, shop=shop)
    return settle(conn, item, spec.action, "succeeded", http_status=status, shop=shop)


def _accepted(spec: Spec, result: dict[str, Any]) -> str:
    return (
        f"accepted, not applied yet (order {result.get('state')}); read back on later runs, "
        f"no new {_verb(spec)} until it settles"
    )


def _verb(spec: Spec) -> str:
    return "charge" if spec.action == "charge_balance" else spec.action


def send_bulk(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    items: Sequence[Planned],
    run_id: str | None,
    settings: ActionSettings,
    log: Log | None,
    progress: Progress | None = None,
    *,
    shop: str = DEFAULT_SHOP,
) -> list[Outcome]:
    """One bulk_release job for the batch, then every order read back (items fail silently).

    Rows stay `unknown` while the job may still act (timeout, stall, failed poll, or a lost
    submission): a later run asks the job (by the job_id on the rows) before judging them.
    """
    sent = ledger.mark_sent(conn, [i.key for i in items], bulk=True, shop=shop)
    items = [i for i in items if i.key in sent]
    if not items:
        return []
    forced = items[0].forced
    keys = sorted(i.key for i in items)
    key = batch_key("bulk_release", keys=keys)
    job_id = None
    try:
        handle = submit_or_attach(
            client,
            conn,
            key,
            lambda: client.bulk_release([i.order_id for i in items], force=forced),
            "bulk_release",
            run_id=run_id,
            log=log,
            shop=shop,
        )
    except (errors.WriteOutcomeUnknown, errors.MalformedResponse):
        # The job may exist and run later (a 2xx without job_id or status_url was still
        # accepted): rows stay open (see unknown_submission_hold), never submitted again blind.
        running, why = True, "bulk submission outcome unknown"
    except errors.StoqError as exc:  # refused, or provably never sent: no job acts on them
        if isinstance(exc, errors.ApiError) and refusal(exc.status):
            # A refusal no retry can change: settled with its status, so none is planned again.
            say(log, f"bulk release was refused: {exc}")
            hint, note = "; ".join(exc.messages) or None, f"bulk submission refused ({exc.status})"
            return [
                settle(conn, i, "release", "failed", http_status=exc.status, hint=hint, note=note,
                       shop=shop)
                for i in items
            ]  # fmt: skip
        running, why = False, f"bulk submission failed ({type(exc).__name__})"
        say(log, f"bulk release was not submitted: {exc}")
    else:
        job_id = handle.job_id
        ledger.attach_job(conn, keys, job_id, shop=shop)  # before the first poll: a crash keeps it
        running, why = may_still_act(
            client,
            conn,
            handle,
            kind="bulk_release",
            batch_key=key,
            run_id=run_id,
            timeout=settings.job_timeout,
            stall_timeout=settings.job_stall_timeout,
            initial_interval=settings.job_initial_interval,
            progress=progress,
            shop=shop,
        )
        if running:
            say(log, f"{why}: its orders stay unknown until a later run sees it end")
    rows = [
        OpenRow(i.key, i.order_id, "release", "sent", forced, job_id, i.created_at, bulk=True)
        for i in items
    ]
    pending = {r.key for r in rows} if running else set()
    return read_back_rows(client, conn, rows, why, pending, settings, shop=shop)


def refusal(status: int) -> bool:
    """A 4xx no retry can change (not 408 Request Timeout nor 429 Too Many Requests): the
    rule warehouse/sql/ledger_next_attempts.sql's `refused` applies to settled rows."""
    return 400 <= status < 500 and status not in (408, 429)


def read_back_rows(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    rows: Sequence[OpenRow],
    why: str = "outcome unknown",
    pending: Collection[str] = (),
    settings: ActionSettings = DEFAULT_SETTINGS,
    *,
    shop: str = DEFAULT_SHOP,
) -> list[Outcome]:
    """Settle `shop`'s sent rows from one batched read of their orders (see `reads`), one
    Outcome each.

    Rows whose key is in `pending` may still take effect: not applied keeps them `unknown`.
    """
    try:
        reads = read_rows(client, conn, rows, shop=shop)
    except errors.Unauthorized as exc:  # as each GET would have failed: every row stays unknown
        reads = OrderReads()
        reads.failed = {r.order_id: exc for r in rows}
    return [
        _judge(
            conn,
            SPECS[r.action],
            r,
            reads.get(r.order_id),
            reads.failed.get(r.order_id),
            why,
            r.key in pending,
            settings,
            shop,
        )  # fmt: skip
        for r in rows
    ]


def read_back(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    spec: Spec,
    row: OpenRow,
    why: str = "outcome unknown",
    pending: bool = False,
    settings: ActionSettings = DEFAULT_SETTINGS,
    *,
    shop: str = DEFAULT_SHOP,
) -> Outcome:
    """Settle a sent row from what the order shows now (one GET); `unknown` if it can't be read."""
    try:
        order, failure = client.get_order(row.order_id), None
    except errors.StoqError as exc:
        order, failure = None, exc
    return _judge(conn, spec, row, order, failure, why, pending, settings, shop)


def _judge(
    conn: duckdb.DuckDBPyConnection,
    spec: Spec,
    row: OpenRow,
    order: dict[str, Any] | None,
    failure: errors.StoqError | None,
    why: str,
    pending: bool,
    settings: ActionSettings,
    shop: str,
) -> Outcome:
    """Settle one of `shop`'s sent rows from its order as read back (None with no failure: 404)."""

    def done(status: str, note: str) -> Outcome:
        ledger.settle(conn, row.key, status, note=note, job_id=row.job_id, shop=shop)
        return Outcome(row.order_id, spec.action, status, note, row.forced, job_id=row.job_id)

    verb = _verb(spec)
    if order is None:
        name = type(failure).__name__ if failure is not None else "NotFound"
        return done("unknown", f"{why}; read-back failed ({name}); no new {verb} until it settles")
    if spec.applied(order):
        return done("succeeded", f"applied (read back after {why})")
    if pending:
        return done("unknown", f"{why}; not applied yet; read back on later runs, no new {verb} "
                               "until it settles")  # fmt: skip
    blocker = spec.check(order, row.forced)
    if row.job_id is not None and blocker is not None:
        # A swallowed per-item failure whose cause the order shows: a business outcome.
        return done("rejected", f"{NOT_APPLIED}: {blocker}")
    if spec.settles_later:
        # It may still land after this read: never charge again on our own (SPEC §1.8).
        return done("failed", f"{NOT_APPLIED} {settings.charge_pending_hold} after sending; not "
                              "charged again until a payment field changes (charged_at, paid, "
                              "financial_status, total_outstanding); charge by hand if still "
                              "owed")  # fmt: skip
    # The cause stays in the note: a later run's retry line says what failed (5xx, timeout).
    return done("failed", f"{NOT_APPLIED} after {why}")


def settle(
    conn: duckdb.DuckDBPyConnection,
    item: Planned,
    action: str,
    status: str,
    *,
    http_status: int | None = None,
    hint: str | None = None,
    note: str | None = None,
    shop: str = DEFAULT_SHOP,
) -> Outcome:
    """Settle `shop`'s row in the ledger and say so as an Outcome."""
    ledger.settle(conn, item.key, status, http_status=http_status, hint=hint, note=note, shop=shop)
    return Outcome(item.order_id, action, status, hint or note or "", item.forced)
