"""Progress events as plain lines (cron, CI, Dagster logs): each phase's start and end, and
between them at most one line every 10 s (the first at once), carrying the latest figures.

A wait of 10 s or more (a rate-limit hold, a retry's backoff) is said at once, like a phase:
it would be that long a silence otherwise. Worker threads waiting together say it once.
Phases that run at once (a shop's offers and orders) are paced each on its own: one's lines
never silence the other's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from preorders.progress import (
    Event,
    JobPolled,
    PhaseEnded,
    PhaseStarted,
    RateLimitWait,
    Retrying,
    Step,
)

EVERY_S = 10.0
#: Shorter rate-limit holds are only counted (Step.rate_waits): a busy walk takes many.
WAIT_WORTH_A_LINE_S = 1.0


class Lines:
    """A Progress writing lines: phase starts and ends, long waits, the rest one per `every` s."""

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        every: float = EVERY_S,
        stamp: Callable[[], str] | None = None,
    ) -> None:
        self._write, self._clock, self._every, self._stamp = write, clock, every, stamp
        self._last: dict[str, float] = {}  # phase -> when its last paced line was said
        self._waiting_until: dict[str, float] = {}  # phase -> the end of its long wait said last
        self._lock = threading.Lock()  # the client's waits arrive from its worker threads

    def __call__(self, event: Event) -> None:
        text = describe(event)
        if text is None:
            return
        with self._lock:
            now, phase = self._clock(), event.phase
            if isinstance(event, RateLimitWait | Retrying) and event.seconds >= self._every:
                if now < self._waiting_until.get(phase, float("-inf")):
                    return  # another thread's share of the same hold
                self._waiting_until[phase], self._last[phase] = now + event.seconds, now
            elif not isinstance(event, PhaseStarted | PhaseEnded):
                if phase in self._last and now - self._last[phase] < self._every:
                    return
                self._last[phase] = now
            self._write(f"{self._stamp()} {text}" if self._stamp else text)


def describe(event: Event) -> str | None:
    """`phase: what happened`, or None for an event not worth a line of its own."""
    text = detail(event)
    return None if text is None else f"{event.phase}: {text}"


def detail(event: Event) -> str | None:
    """What happened, without the phase's name (a live display shows that apart)."""
    if isinstance(event, PhaseStarted):
        return "started"
    if isinstance(event, PhaseEnded):
        ended = f"{event.outcome} in {duration(event.seconds)}"
        return f"{ended} ({event.summary})" if event.summary else ended
    if isinstance(event, Step):
        return step_figures(event)
    if isinstance(event, RateLimitWait):
        if event.seconds < WAIT_WORTH_A_LINE_S:
            return None
        return f"waiting {duration(event.seconds)} for the rate limit ({event.cause})"
    if isinstance(event, Retrying):
        why = f"{event.reason}; retry {event.retry} of {event.retries}"
        return f"retrying in {duration(event.seconds)} ({why})"
    if isinstance(event, JobPolled):
        return job_figures(event)
    return None


def step_figures(step: Step) -> str:
    """`40/300 pages, 4,000 orders, 2 rate-limit waits, ETA 52 s`."""
    done = f"{step.done}/{step.total}" if step.total is not None else f"{step.done}"
    parts = [f"{done} {step.unit}"]
    if step.rows is not None:
        parts.append(f"{step.rows:,} {step.noun}")
    if step.rate_waits:
        parts.append(f"{step.rate_waits} rate-limit waits")
    if step.eta_s is not None and step.total is not None and step.done < step.total:
        parts.append(f"ETA {duration(step.eta_s)}")
    return ", ".join(parts)


def job_figures(poll: JobPolled) -> str:
    """`running 40% (400/1000)`: the server's own figures, as it sent them."""
    text = poll.status if poll.percent is None else f"{poll.status} {poll.percent}%"
    if poll.total is not None:
        text += f" ({poll.processed}/{poll.total})"
    return text


def duration(seconds: float) -> str:
    """0.4 s, 12 s, 3m05s, 1h02m."""
    if seconds < 9.95:
        return f"{max(seconds, 0.0):.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def clock_stamp() -> str:
    """The local time, `HH:MM:SS`, to start a line in a log that has no time of its own."""
    return time.strftime("%H:%M:%S")
