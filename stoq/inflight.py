"""How many requests a walk keeps in flight: more while round trips are slow and points are left,
half as many after trouble (AIMD), never past the ceiling nor the rate budget's points left."""

from __future__ import annotations

import threading
from collections.abc import Callable

SLOW = 0.05  # seconds: answers slower than this are worth overlapping further


class Closed(Exception):
    """Raised by `Inflight.enter` once the gate is closed: the walk no longer wants the page."""


class Inflight:
    """A gate for one walk's requests whose width follows latency and the budget.

    The limit starts at `floor` (the client's `concurrency`), or as wide as the budget allows
    when `warm` is told the walk's first page was slow, and grows by one per answer that took
    at least `slow` seconds while the budget had points left beyond those in flight: doubling
    per round trip until the first trouble, then one per round trip. Trouble (a rise in
    `trouble()`, the client's count of 429s, 5xx and transport failures) halves it, never
    below `floor`. `enter` lets a request out only while fewer than the limit are out and, past
    the floor, only while the budget has a point for it; the budget itself still holds back
    what the floor lets out, so the gate never adds a 429.
    """

    def __init__(
        self,
        floor: int,
        ceiling: int,
        *,
        clock: Callable[[], float],
        room: Callable[[], int] | None = None,
        trouble: Callable[[], int] | None = None,
        slow: float = SLOW,
    ) -> None:
        self.floor = max(1, floor)
        self.ceiling = max(self.floor, ceiling)
        self.clock = clock
        self._room = room  # points left in the budget now (in-flight spends already counted)
        self._trouble = trouble
        self._slow = slow
        self._limit = float(self.floor)
        self._doubling = True  # slow start: until the first trouble
        self._out = 0
        self._closed = False
        self.peak = 0  # the most requests ever out at once
        self._seen = trouble() if trouble is not None else 0
        self._cond = threading.Condition()

    @property
    def limit(self) -> int:
        """Requests the gate lets out at once now, before the budget's say."""
        with self._cond:
            return int(self._limit)

    @property
    def out(self) -> int:
        """Requests out now."""
        with self._cond:
            return self._out

    def free(self) -> int:
        """How many more requests `enter` would let out now."""
        with self._cond:
            return self._free()

    def enter(self) -> float:
        """Wait for a place, take it, and return the time it was taken (for `leave`)."""
        with self._cond:
            while not self._closed and self._free() <= 0:
                self._cond.wait()  # at least `floor` are out: one of them will leave
            if self._closed:
                raise Closed("the walk ended or was left")
            self._out += 1
            self.peak = max(self.peak, self._out)
            return self.clock()

    def leave(self, entered: float) -> None:
        """Give the place back; the answer's latency and any new trouble move the limit."""
        latency = self.clock() - entered
        trouble = self._trouble() if self._trouble is not None else 0
        left = self._left()
        with self._cond:
            self._out -= 1
            if trouble > self._seen:
                self._seen = trouble
                self._limit = max(float(self.floor), self._limit / 2)
                self._doubling = False
            elif latency >= self._slow and left > 0:
                step = 1.0 if self._doubling else 1.0 / int(self._limit)
                self._limit = min(float(self.ceiling), self._limit + step)
            self._cond.notify_all()

    def warm(self, latency: float) -> None:
        """Open as wide as the budget has points for now (up to the ceiling) when the first page
        took `latency` >= `slow` seconds: the round trip, not the server's pace, holds the walk
        back, and ramping up from the floor would cost a round trip per doubling. A budget
        nearly spent keeps the floor, and so does trouble since the gate was made (a retried
        5xx, a 429's pause or a timeout made page 1 slow, not the round trip)."""
        left = self._left()
        trouble = self._trouble() if self._trouble is not None else 0
        with self._cond:
            if latency >= self._slow and trouble <= self._seen:
                self._limit = float(min(self.ceiling, max(self._limit, left)))
            self._cond.notify_all()

    def shrink(self) -> None:
        """Back to the floor, growing one per round trip again: the list looks near its end (an
        empty page), so pages fetched ahead are likely wasted points, and a lying count must not
        draw a wide walk past the data."""
        with self._cond:
            self._limit = float(self.floor)
            self._doubling = False

    def close(self) -> None:
        """Let nothing more out: every waiting and later `enter` raises Closed."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _free(self) -> int:
        # The floor always goes out (the budget holds it back as ever); past it, only requests
        # within the limit that have a point left for them.
        return max(min(int(self._limit) - self._out, self._left()), self.floor - self._out)

    def _left(self) -> int:
        return self._room() if self._room is not None else self.ceiling

    def __repr__(self) -> str:
        return f"Inflight(limit={self.limit}, floor={self.floor}, ceiling={self.ceiling})"
