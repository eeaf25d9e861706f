"""Settle one ledger row by hand: an operator's verdict, recorded with who and why, never deleted.

    done = settle_by_hand(conn, key, applied=False, reason="not in STOQ admin", by="ana")

`applied` closes the row (succeeded). `not applied` settles it failed, which makes its order
eligible again: the next run takes a new attempt key, with no retry backoff and without using up
max_attempts; the ledger still allows one open row per order and action, so never two at once.
Only a real open row (planned, sent, unknown) may be settled, and not as "not applied" while its
write may still land: a `sent` row younger than `stale_after` (its run may still await the
answer), or a row whose bulk job may still act.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from preorders.actions.explain import COMMANDS, at, job_state
from preorders.actions.rules import DEFAULT_SETTINGS, ActionSettings
from warehouse import jobs, ledger_review


class SettleRefused(ValueError):
    """Raised by `settle_by_hand` for no such key, a dry-run row, a row already settled, or a
    row whose bulk job may still act; the message says which and what to do."""


class ReasonRequired(ValueError):
    """Raised by `operator_reason` when the reason is blank."""


def operator_reason(reason: str | None) -> str:
    """The reason an operator's verdict records, stripped; ReasonRequired when it is blank."""
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired("a reason is required (it is recorded in the ledger); nothing settled")
    return text


@dataclass(frozen=True)
class Settled:
    """One row settled by hand."""

    key: str
    order_id: int
    action: str
    attempt: int
    applied: bool
    by: str
    reason: str

    def line(self) -> str:
        """What was recorded and what happens to the order next."""
        verdict = "applied" if self.applied else "not applied"
        head = (
            f"settled {self.key} (order {self.order_id}, {self.action}, attempt {self.attempt}) "
            f"as {verdict} by {self.by}: {self.reason}"
        )
        if self.applied:
            return f"{head}; closed: no new attempt for this version of the order"
        return f"{head}; the next {COMMANDS[self.action]} may send the order again (a new key)"


def settle_by_hand(
    conn: duckdb.DuckDBPyConnection,
    key: str,
    *,
    applied: bool,
    reason: str | None,
    by: str,
    settings: ActionSettings = DEFAULT_SETTINGS,
    now: datetime | None = None,
) -> Settled:
    """Settle the real open row `key` as applied or not; SettleRefused (nothing changed) when it
    cannot be, ReasonRequired for a blank reason."""
    text = operator_reason(reason)
    row = ledger_review.row(conn, key)
    if row is None:
        raise SettleRefused(f"no ledger row has the key {key}; `preorders actions` lists them")
    if row["dry_run"]:
        raise SettleRefused(
            f"{key} is a dry-run row: it never blocks a real run; nothing to settle"
        )
    if row["status"] not in ledger_review.OPEN:
        raise SettleRefused(_already(row))
    job = jobs.get_job(conn, row["job_id"]) if row["job_id"] and not applied else None
    if job is not None and not jobs.is_finished(job):
        raise SettleRefused(
            f"bulk job {job['job_id']} carries {key} and may still act ({job_state(job)}); "
            "as not applied, the order could go out twice: let the next run judge it once the "
            f"job ended (`preorders jobs poll {job['status_url']}` follows it), or settle it as "
            "applied; nothing settled"
        )
    now = now or datetime.now(UTC)
    young = row["status"] == "sent" and row["sent_at"] + settings.stale_after > now
    if young and not applied:
        raise SettleRefused(
            f"{key} was sent at {at(row['sent_at'], now)} by a run that may still await its "
            f"answer; as not applied, the order could go out twice: settle it after "
            f"{at(row['sent_at'] + settings.stale_after, now)}, or as applied; nothing settled"
        )
    status = "succeeded" if applied else "failed"
    if not ledger_review.settle_by_operator(conn, key, status, by=by, reason=text, now=now):
        raise SettleRefused(_already(ledger_review.row(conn, key) or row))  # settled meanwhile
    return Settled(key, int(row["order_id"]), row["action"], int(row["attempt"]), applied, by, text)


def _already(row: dict) -> str:
    who = f" by {row['settled_by']}" if row.get("settled_by") else ""
    when = row.get("settled_at")
    stamp = f" at {when:%Y-%m-%d %H:%M} UTC" if when else ""
    return (
        f"{row['key']} is already settled ({row['status']}{who}{stamp}); a settled row is never "
        "changed"
    )
