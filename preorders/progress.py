"""Progress of long work (walks, job polls, action batches) as typed events, for whoever shows it.

    with Phase(progress, "orders", noun="orders", client=client) as phase:
        ...; phase.step(done, total, rows=records)

A `Progress` is any callable taking an event; the core never draws anything. The CLI renders
events as live bars on a terminal or as lines (`preorders.progress_lines`), the Dagster ops and
assets log those lines. Events may come from several threads (the client's waits do).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from stoq import StoqClient
    from stoq.ratelimit import Room
    from stoq.waits import Wait


@dataclass(frozen=True)
class PhaseStarted:
    """A phase of work began (a stream's walk, a job's polling, a batch of sends)."""

    phase: str


@dataclass(frozen=True)
class PhaseEnded:
    """A phase ended: done, failed or stopped (a signal), after `seconds`."""

    phase: str
    seconds: float
    outcome: Literal["done", "failed", "stopped"] = "done"
    summary: str = ""


@dataclass(frozen=True)
class Step:
    """Work done so far in a phase: `done` of `total` `unit` (pages, orders), `rows` read."""

    phase: str
    done: int
    total: int | None
    unit: str = "pages"
    rows: int | None = None
    noun: str = "rows"
    eta_s: float | None = None
    rate_waits: int = 0  # requests held by the rate limit in this phase so far


@dataclass(frozen=True)
class RateLimitWait:
    """The client holds requests back for the rate limit (its budget, or the server's 429)."""

    phase: str
    seconds: float
    cause: str


@dataclass(frozen=True)
class Retrying:
    """The client waits `seconds` before retry `retry` of at most `retries`, and why."""

    phase: str
    seconds: float
    reason: str
    retry: int
    retries: int


@dataclass(frozen=True)
class JobPolled:
    """One poll of an async job: its status and percent done (processed of total items)."""

    phase: str
    status: str
    percent: float | None
    processed: int | None = None
    total: int | None = None


Event = PhaseStarted | PhaseEnded | Step | RateLimitWait | Retrying | JobPolled
Progress = Callable[[Event], None]


def silent(event: Event) -> None:
    """The default Progress: nobody is watching."""


class Phase:
    """Emit a phase's start, its steps and its end; while it runs, the client's waits too."""

    def __init__(
        self,
        progress: Progress | None,
        name: str,
        *,
        noun: str = "rows",
        client: StoqClient | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name, self.noun, self.summary = name, noun, ""
        self.progress = progress or silent  # for a phase within this one
        # The client's clock by default: the pace it sleeps by (a fake one in tests) is the ETA's.
        clock = clock or (client.clock if client is not None else time.monotonic)
        self._client, self._clock = client, clock
        self._started = clock()
        self._held = 0
        self._replaced: Callable[[Wait], None] | None = None

    def __enter__(self) -> Phase:
        self._started = self._clock()
        if self._client is not None:
            self._held = _held(self._client)
            self._replaced = self._client.listen(self._relay)
        self.progress(PhaseStarted(self.name))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            self._client.listen(self._replaced)
        outcome: Literal["done", "failed", "stopped"] = "done"
        if exc is not None:
            # Ctrl-C and SIGTERM (pipelines.stopping) arrive as KeyboardInterrupt.
            outcome = "stopped" if isinstance(exc, KeyboardInterrupt) else "failed"
        seconds = self._clock() - self._started
        self.progress(PhaseEnded(self.name, seconds, outcome, self.summary))

    def step(
        self, done: int, total: int | None, *, rows: int | None = None, unit: str = "pages"
    ) -> None:
        """Report `done` of `total` units, with an ETA from the pace so far and the rate budget."""
        eta, waits = None, 0
        if self._client is not None:
            waits = _held(self._client) - self._held
            if total is not None:
                elapsed = self._clock() - self._started
                eta = estimate(total - done, done, elapsed, self._client.rate_room())
        self.progress(Step(self.name, done, total, unit, rows, self.noun, eta, waits))

    def job(
        self, status: str, percent: float | None, processed: int | None, total: int | None
    ) -> None:
        """Report one poll of a job."""
        self.progress(JobPolled(self.name, status, percent, processed, total))

    def _relay(self, wait: Wait) -> None:
        if wait.kind == "retry":
            self.progress(Retrying(self.name, wait.seconds, wait.reason, wait.retry, wait.retries))
        else:
            self.progress(RateLimitWait(self.name, wait.seconds, wait.reason))


def estimate(left: int, done: int, elapsed: float, room: Room) -> float | None:
    """Seconds until `left` more requests are answered; None when there is no telling yet."""
    # Never sooner than the pace so far, nor than the rate budget lets them go: room.remaining
    # points now, then room.limit per room.window (a read costs one point).
    if left <= 0:
        return 0.0
    budget = max(0, left - room.remaining) * room.window / max(room.limit, 1)
    if done <= 0 or elapsed <= 0:
        return budget or None
    return max(left * elapsed / done, budget)


def _held(client: StoqClient) -> int:
    """Requests the rate limit held back so far: by the client's budget, or by a 429."""
    stats = client.stats.snapshot()
    return stats.budget_waits + stats.rate_limited
