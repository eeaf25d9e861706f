"""Thread-safe request counters shared by every thread using one client."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class ClientStats:
    """An immutable snapshot of the client's counters; subtract two to get a delta."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    transport_errors: int = 0
    bad_bodies: int = 0
    points: int = 0
    budget_waits: int = 0
    budget_wait_seconds: float = 0.0
    retry_wait_seconds: float = 0.0

    def __sub__(self, other: ClientStats) -> ClientStats:
        return ClientStats(
            **{
                f.name: getattr(self, f.name) - getattr(other, f.name)
                for f in dataclasses.fields(self)
            }
        )


class StatsRecorder:
    """Counters behind a lock; `snapshot()` hands out an immutable copy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current = ClientStats()

    def add(self, **deltas: float) -> None:
        """Add the given amounts to the named counters."""
        with self._lock:
            cur = self._current
            changes = {name: getattr(cur, name) + value for name, value in deltas.items()}
            self._current = dataclasses.replace(cur, **changes)

    def trouble(self) -> int:
        """Answers so far that say "slow down": 429s, 5xx and transport failures (timeouts)."""
        with self._lock:
            cur = self._current
            return cur.rate_limited + cur.server_errors + cur.transport_errors

    def snapshot(self) -> ClientStats:
        """The counters as they are now."""
        with self._lock:
            return self._current

    def __repr__(self) -> str:
        return f"StatsRecorder({self.snapshot()!r})"
