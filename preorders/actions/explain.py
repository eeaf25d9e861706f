"""Why a ledger row is where it is and what unblocks it, in an operator's words (see `review`).

An open row waits on something (another run, a bulk job, a hold, a read-back), until a time when
a clock decides it; a settled row that holds its order back says what lets the order go again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import duckdb

from preorders.actions.plans import plan_charges, release_plan
from preorders.actions.rules import SPECS, ActionSettings
from preorders.actions.settling import LOST_SUBMISSION
from warehouse import ledger
from warehouse.migrate import DEFAULT_SHOP

COMMANDS = {"release": "`preorders release`", "charge_balance": "`preorders charge --execute`"}


class Reason(NamedTuple):
    """Why a row is where it is, what unblocks it, and (open rows) what it waits on until when."""

    why: str
    unblock: str
    waits_on: str = ""
    until: datetime | None = None


def settle_command(
    key: str, verdict: str = "applied|not-applied", *, shop: str = DEFAULT_SHOP
) -> str:
    """The command that settles `shop`'s row `key` by hand (keys are unique per shop only)."""
    where = "" if shop == DEFAULT_SHOP else f" --shop {shop}"
    return f"`preorders actions settle {key} --as {verdict} --reason TEXT{where}`"


def at(when: datetime, now: datetime) -> str:
    """`14:05 UTC`, with the date in front when it is not the day of `now`."""
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    same_day = when.date() == now.astimezone(UTC).date()
    return f"{when:%H:%M} UTC" if same_day else f"{when:%Y-%m-%d %H:%M} UTC"


def open_reason(row: dict[str, Any], settings: ActionSettings, now: datetime) -> Reason:
    """The reason of a planned / sent / unknown row (a `ledger_review.review` row)."""
    cmd, key, shop = COMMANDS[row["action"]], row["key"], row.get("shop", DEFAULT_SHOP)
    if row["status"] == "planned":
        due = row["planned_at"] + settings.stale_after
        then = f"after {at(due, now)}" if due > now else "now"
        return Reason(
            f"claimed by a run at {at(row['planned_at'], now)}; nothing sent yet",
            f"the run that claimed it sends it; if that run stopped, the next {cmd} gives the "
            f"claim back ({then}), or {settle_command(key, 'not-applied', shop=shop)}",
            "another run's claim, nothing sent yet",
            due if due > now else None,
        )
    if row["bulk"] and row["job_known"] and not row["job_finished"]:
        on = f"bulk job {row['job_id']} ({job_state(row, 'job_')})"
        return Reason(
            f"sent in {on}; its outcome is known once the job ends",
            f"the next {cmd} asks the job and reads the order back once the job ended, "
            f"or {settle_command(key, 'applied', shop=shop)}",
            on,
        )
    if row["bulk"] and not row["job_known"]:  # no job we can ask: it may run until it expires
        job = row["job_id"]
        cause = LOST_SUBMISSION if job is None else f"bulk job {job} not in jobs"
        return _held(row, cause, settings.unknown_submission_hold, settings, now)
    if SPECS[row["action"]].settles_later:  # STOQ may settle a charge after answering
        return _held(
            row, "a charge STOQ may still apply", settings.charge_pending_hold, settings, now
        )
    sent = row["sent_at"] or row["planned_at"]
    due = sent + settings.stale_after if row["status"] == "sent" else now
    then = f" after {at(due, now)}" if due > now else ""
    lost = f"sent at {at(sent, now)}; its answer is not recorded (a run in flight, or stopped)"
    return Reason(
        row["note"] or lost,
        f"the next {cmd} reads the order back{then}, or {settle_command(key, shop=shop)}",
        "a read-back of what was sent",
        due if due > now else None,
    )


def _held(
    row: dict[str, Any], cause: str, hold: timedelta, settings: ActionSettings, now: datetime
) -> Reason:
    """A row whose write may still take effect for `hold` after it was sent; judged after that."""
    sent = row["sent_at"] or row["planned_at"]
    # A `sent` row is read back only once stale: the later of the two clocks decides it.
    until = sent + (max(hold, settings.stale_after) if row["status"] == "sent" else hold)
    why = f"{cause} (sent at {at(sent, now)}; it may still take effect for {_span(hold)})"
    shop = row.get("shop", DEFAULT_SHOP)
    cmd, settle = COMMANDS[row["action"]], settle_command(row["key"], shop=shop)
    if until > now:
        return Reason(
            why, f"judged at {at(until, now)} by the next {cmd}, or {settle}", cause, until
        )
    ended = f"judged by the next {cmd} (its hold ended at {at(until, now)}), or {settle}"
    return Reason(why, ended, cause)


@dataclass(frozen=True)
class Plans:
    """What each of one shop's orders waits for as last synced, and what the next run would do
    about it."""

    current: dict[tuple[str, int], str]  # (action, order id) -> its fingerprint as last synced
    todo: set[tuple[str, int]]  # what the next run would send
    waiting: dict[int, str]  # release retries held back (backoff, refusal): why, until when

    @classmethod
    def read(
        cls,
        conn: duckdb.DuckDBPyConnection,
        settings: ActionSettings,
        now: datetime,
        *,
        shop: str = DEFAULT_SHOP,
    ) -> Plans:
        """Read `shop`'s plans from the warehouse (no request, no write)."""
        current = {("release", c.order_id): c.fingerprint for c in ledger.releasable(conn, shop)}
        for c in ledger.awaiting_balance(conn, shop=shop):
            current["charge_balance", c.order_id] = c.fingerprint
        todo, waiting = release_plan(conn, settings=settings, now=now, shop=shop)
        todo += plan_charges(conn, shop=shop)
        pairs = {(p.action, p.order_id) for p in todo}
        return cls(current, pairs, {o.order_id: o.detail for o in waiting})

    def holds_back(self, row: dict[str, Any]) -> bool:
        """Whether a settled row stands between its order's current version and a new key."""
        pair = (row["action"], row["order_id"])
        return not row["forced"] and self.current.get(pair) == row["order_fingerprint"]


def settled_reason(row: dict[str, Any], plans: Plans, settings: ActionSettings) -> Reason:
    """The reason of a failed / rejected / skipped row that holds its order back."""
    cmd, order = COMMANDS[row["action"]], row["order_id"]
    cause = row["hint"] or row["note"] or ""
    changed = "not sent again until a sync shows the order changed"
    if row["status"] == "rejected":
        return Reason(f"STOQ refused it ({row['http_status']}: {cause})", changed)
    if row["status"] == "skipped":
        return Reason(f"skipped when re-read: {cause}", f"{changed}; run `preorders sync`")
    if row["settled_by"]:
        why = f"settled not applied by {row['settled_by']}: {row['settle_reason']}"
    else:
        status = f" ({row['http_status']})" if row["http_status"] else ""
        why = f"failed{status}" + (f": {cause}" if cause else "")
    if (row["action"], order) in plans.todo:
        return Reason(why, f"sent again by the next {cmd}")
    if row["action"] == "release" and order in plans.waiting:
        return Reason(why, plans.waiting[order])
    if row["action"] == "charge_balance":
        fields = "charged_at, paid, financial_status, total_outstanding"
        return Reason(why, f"not charged again until a payment field changes ({fields}); charge "
                           "it by hand if still owed")  # fmt: skip
    gave_up = f"given up after {settings.max_attempts} attempts: release it by hand"
    return Reason(why, f"{gave_up}; a new attempt only once a sync shows the order changed")


def job_state(row: dict[str, Any], prefix: str = "last_") -> str:
    """`running, 40%` from a jobs row (prefix `last_`) or a review row (prefix `job_`)."""
    status, progress = row.get(f"{prefix}status"), row.get(f"{prefix}progress")
    return (status or "not polled yet") + (f", {progress:g}%" if progress is not None else "")


def _span(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds and seconds % 60 == 0 else f"{seconds} s"
