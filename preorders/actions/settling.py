"""Settle the rows earlier runs left open, before anything new is sent.

A row is judged "not applied" only once nothing can still apply it: a bulk row's job (found by
the job_id recorded right after submission) must have ended or expired; a bulk row whose
submission outcome was lost waits `unknown_submission_hold`; a charge waits `charge_pending_hold`,
since STOQ may settle it after answering (SPEC §3.4). Until then a row stays `unknown`, and an
open row blocks any new key for its order. Only `shop`'s rows are settled, with that shop's client.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import duckdb

from preorders.actions.outcomes import Log, Outcome, say
from preorders.actions.rules import DEFAULT_SETTINGS, SPECS, ActionSettings
from preorders.actions.sending import read_back_rows
from preorders.jobtracking import known_job_may_still_act
from stoq import StoqClient
from warehouse import ledger
from warehouse.ledger import OpenRow
from warehouse.migrate import DEFAULT_SHOP

LOST_SUBMISSION = "bulk submission outcome unknown"


def settle_open_rows(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    action: str | None = None,
    settings: ActionSettings = DEFAULT_SETTINGS,
    *,
    log: Log | None = None,
    now: datetime | None = None,
    shop: str = DEFAULT_SHOP,
) -> list[Outcome]:
    """Settle `shop`'s rows earlier runs left open (`client` is that shop's): planned -> given
    back (never sent), others read back."""
    out: list[Outcome] = []
    sent: list[OpenRow] = []
    for row in ledger.unsettled(conn, action, stale_after=settings.stale_after, shop=shop):
        if row.status == "planned":  # claimed, never sent: give the claim back
            ledger.unclaim(conn, row.key, shop=shop)
            note = "an earlier run stopped before sending; planned again"
            out.append(Outcome(row.order_id, row.action, "skipped", note, row.forced))
        else:
            sent.append(row)
    now = now or datetime.now(UTC)
    single = [r for r in sent if not r.bulk]
    if single:
        charges = [r for r in single if SPECS[r.action].settles_later]
        held = _held(charges, settings.charge_pending_hold, now)
        out += read_back_rows(client, conn, single, pending=held, settings=settings, shop=shop)
    jobs: dict[str | None, list[OpenRow]] = {}
    for row in sent:
        if row.bulk:
            jobs.setdefault(row.job_id, []).append(row)
    for job_id, rows in jobs.items():
        out += _settle_bulk(client, conn, job_id, rows, settings, log, now, shop)
    for outcome in out:
        say(log, f"settled from an earlier run: {outcome.line()}")
    return out


def _settle_bulk(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    job_id: str | None,
    rows: Sequence[OpenRow],
    settings: ActionSettings,
    log: Log | None,
    now: datetime,
    shop: str,
) -> list[Outcome]:
    """Ask the job that carried the rows first; read them back as applied or still pending."""
    answer = None
    if job_id is not None:
        answer = known_job_may_still_act(
            client,
            conn,
            job_id,
            timeout=settings.settle_job_timeout,
            stall_timeout=settings.job_stall_timeout,
            initial_interval=settings.job_initial_interval,
            shop=shop,
        )
    if answer is None:  # no job we can ask: it may exist and run until it expires
        held = _held(rows, settings.unknown_submission_hold, now)
        why = LOST_SUBMISSION if job_id is None else f"bulk job {job_id} not in jobs"
        if held:
            say(log, f"{why}: {len(held)} orders wait {settings.unknown_submission_hold} "
                     "before they may be judged not applied")  # fmt: skip
        return read_back_rows(client, conn, rows, why, held, settings, shop=shop)
    running, why = answer
    pending = {r.key for r in rows} if running else set()
    return read_back_rows(client, conn, rows, why, pending, settings, shop=shop)


def _held(rows: Sequence[OpenRow], hold: timedelta, now: datetime) -> set[str]:
    """Keys of rows sent less than `hold` ago (or at an unknown time): they may still apply."""
    return {r.key for r in rows if r.sent_at is None or now - r.sent_at < hold}
