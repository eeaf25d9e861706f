"""What an action run reports: one `Outcome` per order, counted and summed up in one line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

Log = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    """One order's result: planned (dry run), succeeded, rejected, failed, unknown, skipped, or
    not_sent (the order could not be re-read, so nothing went out; the next run tries again)."""

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


class RunOutcomes(list[Outcome]):
    """A run's outcomes, plus what still waited when it ended (`waits`: open ledger rows and bulk
    jobs in flight, one line per cause), so its summary never says "nothing to do" over them."""

    def __init__(self, outcomes: Iterable[Outcome] = (), waits: Iterable[str] = ()) -> None:
        super().__init__(outcomes)
        self.waits = tuple(waits)


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    """Orders per status, statuses sorted."""
    found: dict[str, int] = {}
    for o in outcomes:
        found[o.status] = found.get(o.status, 0) + 1
    return dict(sorted(found.items()))


def summary(outcomes: list[Outcome]) -> str:
    """`3 succeeded, 1 rejected` style, then what still waits (a RunOutcomes' `waits`): `nothing
    sent: 13 orders wait until 14:05 UTC (...)`; `nothing to do` only when nothing waits."""
    done = ", ".join(f"{n} {s}" for s, n in counts(outcomes).items())
    waits = "; ".join(getattr(outcomes, "waits", ()))
    if not waits:
        return done or "nothing to do"
    return f"{done}; {waits}" if done else f"nothing sent: {waits}"


def say(log: Log | None, message: str) -> None:
    """Log `message` when there is a log."""
    if log is not None:
        log(message)
