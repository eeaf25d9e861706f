"""A real sliding-window point limiter per API key (SPEC §1.5, §8.12)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """Whether the request was admitted and the header values to send."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int = 0

    def headers(self) -> dict[str, str]:
        """X-RateLimit-* (and Retry-After when refused)."""
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


class SlidingWindowLimiter:
    """`points` per `window` seconds; a refused request costs nothing."""

    def __init__(self, points: int, window: float) -> None:
        self.points = points
        self.window = window
        self._spent: dict[str, deque[tuple[float, int]]] = {}
        self._used: dict[str, int] = {}

    def _prune(self, key: str, now: float) -> deque[tuple[float, int]]:
        spent = self._spent.setdefault(key, deque())
        while spent and spent[0][0] <= now - self.window:
            self._used[key] -= spent.popleft()[1]
        self._used.setdefault(key, 0)
        return spent

    def _reset(self, spent: deque[tuple[float, int]], now: float) -> int:
        # The moment the oldest counted request drops out of the window.
        return math.ceil(spent[0][0] + self.window) if spent else math.ceil(now)

    def take(self, key: str, cost: int, now: float) -> Verdict:
        """Charge `cost` points if they fit, else refuse with the seconds until they would."""
        spent = self._prune(key, now)
        used = self._used[key]
        if used + cost > self.points:
            freed, wait = 0, self.window
            for t, c in spent:
                freed += c
                if used - freed + cost <= self.points:
                    wait = t + self.window - now
                    break
            retry = max(1, math.ceil(wait))
            return Verdict(
                False, self.points, max(0, self.points - used), self._reset(spent, now), retry
            )
        spent.append((now, cost))
        self._used[key] = used + cost
        return Verdict(True, self.points, self.points - used - cost, self._reset(spent, now))

    def peek(self, key: str, now: float) -> Verdict:
        """The current state without charging (used for responses that cost nothing)."""
        spent = self._prune(key, now)
        used = self._used[key]
        return Verdict(True, self.points, max(0, self.points - used), self._reset(spent, now))
