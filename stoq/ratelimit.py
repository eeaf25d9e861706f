"""Client-side sliding-window budget in STOQ's points (SPEC §1.5), shared across threads."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from stoq._params import finite
from stoq.waits import OnWait, Wait

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def cost_of(method: str) -> int:
    """STOQ charges 1 point per read and 2 per write."""
    return 2 if method.upper() in WRITE_METHODS else 1


@dataclass(frozen=True)
class Room:
    """The budget now: points per window, points left (ours or the server's, the fewer), window."""

    limit: int
    remaining: int
    window: float


class Ticket:
    """One spend in the window; `settle` moves its expiry to when the response arrived."""

    __slots__ = ("acquired_at", "cost", "expires_at", "waited")

    def __init__(self, cost: int, acquired_at: float, expires_at: float, waited: float) -> None:
        self.cost = cost
        self.acquired_at = acquired_at
        self.expires_at = expires_at
        self.waited = waited


class RateBudget:
    """`points_per_window` points per rolling `window_seconds`; `acquire` blocks until room."""

    def __init__(
        self,
        points_per_window: int = 360,
        window_seconds: float = 60.0,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        wall_clock: Callable[[], float],
    ) -> None:
        if points_per_window < 2 or window_seconds <= 0:
            raise ValueError("points_per_window must be >= 2 and window_seconds > 0")
        self.limit = points_per_window
        self.window = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        # Spends (ours and phantom ones standing for the server's view) that still count.
        self._entries: list[Ticket] = []
        self._last_headers: dict[str, str] = {}

    @property
    def last_headers(self) -> dict[str, str]:
        """The X-RateLimit-* headers of the last answer observed (a copy; {} if it sent none)."""
        with self._lock:
            return dict(self._last_headers)

    def room(self) -> Room:
        """Points per window and points left now: the fewer of our count and the server's last
        X-RateLimit-Remaining (another client may spend from the same key)."""
        with self._lock:
            ours = self.limit - self._used(self._clock())
            theirs = finite(self._last_headers.get("X-RateLimit-Remaining"))
            left = ours if theirs is None else min(ours, int(theirs))
            return Room(self.limit, max(left, 0), self.window)

    def points_left(self) -> int:
        """Points that could go out now (`room().remaining`)."""
        return self.room().remaining

    def used(self) -> int:
        """Points counted in the window right now."""
        with self._lock:
            return self._used(self._clock())

    def acquire(self, cost: int, on_wait: OnWait | None = None) -> Ticket:
        """Block (via the injected sleep) until `cost` points fit, then spend them; `on_wait`
        hears of each hold before it starts (the caller's listener: clients share a budget)."""
        cost = min(cost, self.limit)
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_for(now, cost)
                if wait <= 0:
                    # In flight it counts without expiring; settle() starts its window.
                    ticket = Ticket(cost, now, math.inf, waited)
                    self._entries.append(ticket)
                    return ticket
            # Sleep outside the lock so other threads can settle and observe meanwhile.
            if on_wait is not None:
                on_wait(Wait("rate_limit", wait, "rate budget"))
            self._sleep(wait)
            waited += wait

    def settle(self, ticket: Ticket) -> None:
        """Start the spend's window now: the server counted it at some point before this."""
        with self._lock:
            ticket.expires_at = self._clock() + self.window

    def pause(self, seconds: float, on_wait: OnWait | None = None) -> None:
        """Hold every thread back for `seconds` (after a 429 with Retry-After)."""
        if seconds > 0:
            with self._lock:
                now = self._clock()
                self._entries.append(Ticket(self.limit, now, now + seconds, 0.0))
            if on_wait is not None:
                on_wait(Wait("rate_limit", seconds, "429 Too Many Requests"))

    def observe(self, headers: Mapping[str, str]) -> None:
        """Correct the window from X-RateLimit-Limit/Remaining/Reset on a response."""
        limit = finite(headers.get("x-ratelimit-limit"))
        remaining = finite(headers.get("x-ratelimit-remaining"))
        reset = finite(headers.get("x-ratelimit-reset"))
        with self._lock:
            seen = {name: headers.get(name.lower()) for name in RATE_LIMIT_HEADERS}
            self._last_headers = {name: value for name, value in seen.items() if value is not None}
            if limit is not None and 2 <= limit < self.limit:
                self.limit = int(limit)
            if remaining is None:
                return
            now = self._clock()
            ours = self.limit - self._used(now)
            if remaining >= ours:
                return
            # The server knows of spends we don't (another client, an earlier run): believe it
            # until its reset by standing a phantom spend in the window.
            reset_in = self.window if reset is None else reset - self._wall_clock()
            reset_in = min(max(reset_in, 0.0), self.window)
            if reset_in > 0:
                self._entries.append(Ticket(int(ours - remaining), now, now + reset_in, 0.0))

    def _used(self, now: float) -> int:
        self._entries = [t for t in self._entries if t.expires_at > now]
        return sum(t.cost for t in self._entries)

    def _wait_for(self, now: float, cost: int) -> float:
        """Seconds until `cost` more points fit in the window (0 if they fit now)."""
        excess = self._used(now) + cost - self.limit
        if excess <= 0:
            return 0.0
        freed = 0
        for ticket in sorted(self._entries, key=lambda t: t.expires_at):
            if ticket.expires_at == math.inf:
                break
            freed += ticket.cost
            if freed >= excess:
                return max(ticket.expires_at - now, 1e-3)
        # Only requests still in flight stand in the way: look again shortly.
        return min(self.window, 0.05)
