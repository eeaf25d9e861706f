"""Settle one ledger row by hand: an operator's verdict, recorded with who and why, never deleted.

    done = settle_by_hand(conn, key, applied=False, reason="not in STOQ admin", by="ana")

`applied` closes the row (succeeded). `not applied` settles it failed, which makes its order
eligible again: the next run takes a new attempt key, with no retry backoff and without using up
max_attempts; the ledger still allows one open row per order and action, so never two at once.
Only a real open row (planned, sent, unknown) may be settled, and not as "not applied" while its
write may still land: a `sent` row younger than `stale_after` (its run may still await the
answer), or a row whose bulk job may still act.

A key is unique per shop only: given `shop`, only that shop's row is settled; without it the key
is looked up in every shop, and a key two shops hold is refused (AmbiguousKey) naming them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from preorders.actions.explain import COMMANDS, at, job_state
from preorders.actions.rules import DEFAULT_SETTINGS, ActionSettings
from warehouse import jobs, ledger_review
from warehouse.migrate import DEFAULT_SHOP


class SettleRefused(ValueError):
    """Raised by `settle_by_hand` for no such key, a dry-run row, a row already settled, or a
    row whose bulk job may still act; the message says which and what to do."""


class AmbiguousKey(SettleRefused):
    """Raised by `settle_by_hand` without a shop for a key more than one shop holds; the message
    names the shops and asks for --shop."""


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
    shop: str = DEFAULT_SHOP

    def line(self) -> str:
        """What was recorded and what happens to the order next."""
        verdict = "applied" if self.applied else "not applied"
        where = "" if self.shop == DEFAULT_SHOP else f"shop {self.shop}, "
        head = (
            f"settled {self.key} ({where}order {self.order_id}, {self.action}, attempt "
            f"{self.attempt}) as {verdict} by {self.by}: {self.reason}"
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
    shop: str | None = None,
) -> Settled:
    """Settle `shop`'s real open row `key` (None: the one shop holding the key) as applied or
    not; SettleRefused (nothing changed) when it cannot be, AmbiguousKey when shop is None and
    several shops hold the key, ReasonRequired for a blank reason."""
    text = operator_reason(reason)
    row = _find(conn, key, shop)
    if row is None:
        if shop is None or shop == DEFAULT_SHOP:
            raise SettleRefused(f"no ledger row has the key {key}; `preorders actions` lists them")
        raise SettleRefused(
            f"no ledger row of shop {shop} has the key {key}; `preorders actions --shop {shop}` "
            "lists them"
        )
    shop = str(row["shop"])
    if row["dry_run"]:
        raise SettleRefused(
            f"{key} is a dry-run row: it never blocks a real run; nothing to settle"
        )
    if row["status"] not in ledger_review.OPEN:
        raise SettleRefused(_already(row))
    job = jobs.get_job(conn, row["job_id"], shop=shop) if row["job_id"] and not applied else None
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
    if not ledger_review.settle_by_operator(
        conn, key, status, by=by, reason=text, now=now, shop=shop
    ):  # settled meanwhile
        raise SettleRefused(_already(ledger_review.row(conn, key, shop=shop) or row))
    return Settled(
        key, int(row["order_id"]), row["action"], int(row["attempt"]), applied, by, text, shop
    )


def _find(conn: duckdb.DuckDBPyConnection, key: str, shop: str | None) -> dict | None:
    """`shop`'s row with `key`; without a shop the one row any shop holds (AmbiguousKey when
    several shops hold it: settling one of them must be a choice, never a guess)."""
    if shop is not None:
        return ledger_review.row(conn, key, shop=shop)
    found = ledger_review.key_rows(conn, key)
    if len(found) > 1:
        shops = ", ".join(str(r["shop"]) for r in found)
        raise AmbiguousKey(
            f"the key {key} is in {len(found)} shops ({shops}): name one with --shop; "
            "nothing settled"
        )
    return found[0] if found else None


def _already(row: dict) -> str:
    who = f" by {row['settled_by']}" if row.get("settled_by") else ""
    when = row.get("settled_at")
    stamp = f" at {when:%Y-%m-%d %H:%M} UTC" if when else ""
    return (
        f"{row['key']} is already settled ({row['status']}{who}{stamp}); a settled row is never "
        "changed"
    )
