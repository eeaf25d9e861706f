"""Sending: one POST per order or one bulk_release job, each settled in the ledger.

A lost response is settled by reading the order back (`read_back`, one GET), never by posting
again; a whole batch is read back at once (`read_back_rows`, a window walk and/or GETs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from pipelines.actions.outcomes import Log, Outcome, say
from pipelines.actions.reads import OrderReads, read_rows
from pipelines.actions.rules import NOT_APPLIED, SPECS, ActionSettings, Spec
from pipelines.jobtracking import batch_key, submit_or_attach, track_job
from stoq import StoqClient, errors
from warehouse import ledger
from warehouse.ledger import OpenRow, Planned


def send_one(
    client: StoqClient, conn: duckdb.DuckDBPyConnection, spec: Spec, item: Planned
) -> Outcome:
    """Mark the row sent, POST once, settle it from the answer (read back when it is lost)."""
    if item.key not in ledger.mark_sent(conn, [item.key]):
        return Outcome(item.order_id, spec.action, "skipped", "another run settled it")
    try:
        result = spec.send(client, item.order_id, item.forced)
    except errors.Conflict as exc:
        return settle(conn, item, spec.action, "rejected", http_status=409, hint=exc.hint)
    except (errors.WriteOutcomeUnknown, errors.MalformedResponse) as exc:
        why = exc.reason if isinstance(exc, errors.WriteOutcomeUnknown) else str(exc)
        return read_back(client, conn, spec, item.key, item.order_id, item.forced, None, why)
    except errors.ApiError as exc:  # 4xx or 429 after every retry: the server refused it
        hint = "; ".join(exc.messages) or None
        return settle(conn, item, spec.action, "failed", http_status=exc.status, hint=hint,
                       note=f"not applied ({exc.status})")  # fmt: skip
    except errors.TransportError:  # the request provably never reached the server
        return settle(conn, item, spec.action, "failed", note="not sent (connection failed)")
    note = "" if spec.applied(result) else f"accepted; order now {result.get('state')}"
    status = getattr(result, "status", None)  # the client's Written carries the real status
    return settle(conn, item, spec.action, "succeeded", http_status=status, note=note or None)


def send_bulk(
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
        say(log, f"bulk release did not complete cleanly: {exc}")
    rows = [
        OpenRow(i.key, i.order_id, "release", "sent", forced, job_id, i.created_at) for i in items
    ]
    return read_back_rows(client, conn, rows, why, still_running)


def read_back_rows(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    rows: Sequence[OpenRow],
    why: str = "outcome unknown",
    still_running: bool = False,
) -> list[Outcome]:
    """Settle sent rows from one batched read of their orders (see `reads`), one Outcome each."""
    try:
        reads = read_rows(client, conn, rows)
    except errors.Unauthorized as exc:  # as each GET would have failed: every row stays unknown
        reads = OrderReads()
        reads.failed = {r.order_id: exc for r in rows}
    out = []
    for r in rows:
        order, failure = reads.get(r.order_id), reads.failed.get(r.order_id)
        spec = SPECS[r.action]
        out.append(
            _judge(conn, spec, r.key, r.order_id, r.forced, r.job_id, order, failure, why,
                   still_running)
        )  # fmt: skip
    return out


def read_back(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    spec: Spec,
    key: str,
    order_id: int,
    forced: bool,
    job_id: str | None,
    why: str = "outcome unknown",
    still_running: bool = False,
) -> Outcome:
    """Settle a sent row from what the order shows now (one GET); `unknown` if it can't be read."""
    try:
        order, failure = client.get_order(order_id), None
    except errors.StoqError as exc:
        order, failure = None, exc
    return _judge(conn, spec, key, order_id, forced, job_id, order, failure, why, still_running)


def _judge(
    conn: duckdb.DuckDBPyConnection,
    spec: Spec,
    key: str,
    order_id: int,
    forced: bool,
    job_id: str | None,
    order: dict[str, Any] | None,
    failure: errors.StoqError | None,
    why: str,
    still_running: bool,
) -> Outcome:
    """Settle one sent row from its order as read back (None with no failure: a 404)."""

    def done(status: str, note: str) -> Outcome:
        ledger.settle(conn, key, status, note=note, job_id=job_id)
        return Outcome(order_id, spec.action, status, note, forced, job_id=job_id)

    if order is None:
        name = type(failure).__name__ if failure is not None else "NotFound"
        return done("unknown", f"{why}; read-back failed ({name})")
    if spec.applied(order):
        return done("succeeded", f"applied (read back after {why})")
    if still_running:
        return done("unknown", f"{why}; not applied yet")
    blocker = spec.check(order, forced)
    if job_id is not None and blocker is not None:
        # A swallowed per-item failure whose cause the order shows: a business outcome.
        return done("rejected", f"{NOT_APPLIED}: {blocker}")
    return done("failed", NOT_APPLIED)


def settle(
    conn: duckdb.DuckDBPyConnection,
    item: Planned,
    action: str,
    status: str,
    *,
    http_status: int | None = None,
    hint: str | None = None,
    note: str | None = None,
) -> Outcome:
    """Settle the row in the ledger and say so as an Outcome."""
    ledger.settle(conn, item.key, status, http_status=http_status, hint=hint, note=note)
    return Outcome(item.order_id, action, status, hint or note or "", item.forced)
