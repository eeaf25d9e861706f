"""The rules of each ledger action: when an order may be sent, how a write is read back, knobs,
and the one force/reason rule (`force_reason`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from preorders.settings import CHARGE_PENDING_HOLD, UNKNOWN_SUBMISSION_HOLD, resolve_hold
from stoq import StoqClient
from warehouse.ledger import Planned

RELEASED = frozenset({"released", "fulfilled"})
FORCEABLE = frozenset({"placed", "awaiting_balance", "balance_collected"})
NOT_APPLIED = "not applied (read back)"


class ForceWithoutReason(ValueError):
    """Raised by `force_reason` when force is asked for without a reason to record."""


class ReasonWithoutForce(ValueError):
    """Raised by `force_reason` when a reason is given without force (nothing would use it)."""


def force_reason(force: bool, reason: str | None) -> str | None:
    """The reason a forced release records (None when not forced): the one force/reason rule.

    Force needs a non-blank reason (it goes into the ledger); a reason goes only with force.
    The CLI checks it before asking for the key; `release` checks it before anything else.
    """
    text = (reason or "").strip() or None
    if force and text is None:
        raise ForceWithoutReason(
            "force needs a reason (it is recorded in the ledger); nothing was sent"
        )
    if text is not None and not force:
        raise ReasonWithoutForce("a reason only goes with force; nothing was sent")
    return text


@dataclass(frozen=True)
class ActionSettings:
    """Knobs shared by the CLI and the jobs."""

    bulk_threshold: int = 20  # this many orders or more go out as one bulk_release job
    max_attempts: int = 5  # release keys per order version; a new one only after NOT_APPLIED
    # A release that failed without effect (5xx, timeout, dropped: read back as not applied)
    # goes out again on a later run, this long after the last attempt (the last wait repeats).
    retry_backoff: tuple[timedelta, ...] = (
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(hours=1),
    )
    stale_after: timedelta = timedelta(minutes=5)  # younger sent/planned rows may be in flight
    job_timeout: float = 600.0
    job_stall_timeout: float = 120.0
    job_initial_interval: float = 1.0
    # STOQ may settle a charge after answering (SPEC §3.4): until then it is `unknown`, not failed.
    charge_pending_hold: timedelta = timedelta(hours=1)
    # A bulk submission whose answer was lost may have created a job that still runs; we assume
    # jobs finish or expire within an hour (the TTL is undocumented, SPEC §4.2).
    unknown_submission_hold: timedelta = timedelta(hours=1)
    settle_job_timeout: float = 30.0  # how long a later run polls a known job before judging

    @classmethod
    def from_env(
        cls, action: str | None = None, hold_s: float | None = None, source: str = "", **fields: Any
    ) -> ActionSettings:
        """`fields` as given, with the holds in force: `action`'s (release, charge_balance) from
        `hold_s` (a flag or run config field, named by `source`), else its variable, else 1 h;
        without an action both from the environment. A bad value raises ConfigurationError."""
        for name, (field_name, env) in HOLDS.items():
            if action is None or name == action:
                seconds = resolve_hold(env, hold_s if name == action else None, source)
                fields.setdefault(field_name, timedelta(seconds=seconds))
        return cls(**fields)


#: Per action: the ActionSettings field of its hold and the variable that sets it.
HOLDS = {
    "release": ("unknown_submission_hold", UNKNOWN_SUBMISSION_HOLD),
    "charge_balance": ("charge_pending_hold", CHARGE_PENDING_HOLD),
}

DEFAULT_SETTINGS = ActionSettings()


def retry_blocker(item: Planned, settings: ActionSettings, now: datetime) -> str | None:
    """Why a retry of a failed release must not go out now (None: the first try, or it may)."""
    failure = item.last_failure
    if item.attempt == 0 or failure is None:
        return None
    cause = failure.note or "failed"
    if failure.refused:  # e.g. 422: sending it again gets the same answer
        return f"STOQ refused an earlier attempt ({failure.http_status}: {cause}); not retried"
    if failure.by_operator or not settings.retry_backoff:  # an operator said "not applied"
        return None
    wait = settings.retry_backoff[min(item.attempt, len(settings.retry_backoff)) - 1]
    due = failure.at + wait
    if now >= due:
        return None
    ago = _minutes(now - failure.at)
    return (
        f"last attempt failed {ago} ago ({cause}); next try after {due:%H:%M} UTC "
        f"(attempt {item.attempt + 1} of {settings.max_attempts})"
    )


def _minutes(span: timedelta) -> str:
    seconds = max(0, int(span.total_seconds()))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min"


@dataclass(frozen=True)
class Spec:
    """One action: its ledger name, its pre-send check, its read-back test and its request."""

    action: str
    check: Callable[[dict[str, Any], bool], str | None]  # live order, forced -> skip reason
    applied: Callable[[dict[str, Any]], bool]  # read back: did the write take effect?
    send: Callable[[StoqClient, int, bool], dict[str, Any]]
    settles_later: bool = False  # a 2xx may precede the effect: not applied yet is not failed


def state_of(order: dict[str, Any]) -> str | None:
    """The order's `state` when it is text; None for anything else (an object, a number)."""
    state = order.get("state")
    return state if isinstance(state, str) else None


def money(order: dict[str, Any], field: str = "total_outstanding") -> Decimal | None:
    """A payments amount as a Decimal, None when absent or unreadable (NaN and Infinity too:
    they read as Decimals, but comparing one raises; a `payments` that is no object too)."""
    payments = order.get("payments")
    value = payments.get(field) if isinstance(payments, dict) else None
    try:
        amount = None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() else None


def stopped(order: dict[str, Any]) -> str | None:
    """Why no action may touch the order at all: it was cancelled, or money was refunded
    (whatever its `state` says: SPEC §3.1 leaves their precedence open)."""
    state = state_of(order)
    if order.get("cancelled_at") or state == "cancelled":
        return "the order is cancelled"
    if order.get("financial_status") in ("refunded", "partially_refunded") or state == "refunded":
        return "money was refunded; act on it by hand"
    return None


def release_blocker(order: dict[str, Any], forced: bool = False) -> str | None:
    """Why a live order must not be released now (None: held and fully paid, or forceable)."""
    state = state_of(order)
    if reason := stopped(order):
        return reason
    if forced:
        return None if state in FORCEABLE else f"the order is {state}"
    if state != "balance_collected":
        return f"not held and fully paid (state {state})"
    if money(order) != 0:
        return "a balance is outstanding"
    return None


def charge_blocker(order: dict[str, Any], forced: bool = False) -> str | None:
    """Why a live order's balance must not be charged now (None: charge it)."""
    state = state_of(order)
    if reason := stopped(order):
        return reason
    if state != "awaiting_balance":
        return f"no balance to charge (state {state})"
    outstanding = money(order)
    if outstanding is None or outstanding <= 0:
        return "nothing outstanding"
    return None


RELEASE = Spec(
    "release",
    release_blocker,
    lambda o: state_of(o) in RELEASED,
    lambda client, order_id, forced: client.release_order(order_id, force=forced),
)
CHARGE = Spec(
    "charge_balance",
    charge_blocker,
    lambda o: money(o) == 0,
    lambda client, order_id, _forced: client.charge_balance(order_id),
    settles_later=True,
)
SPECS = {s.action: s for s in (RELEASE, CHARGE)}
