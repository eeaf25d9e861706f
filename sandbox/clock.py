"""Clocks: the real one and a thread-safe fake that tests advance by sleeping."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

# 2026-03-01T12:00:00Z: a fixed instant so seeded data is identical run to run.
FAKE_EPOCH = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()


class RealClock:
    """Wall and monotonic time from the `time` module."""

    def time(self) -> float:
        """Unix seconds."""
        return time.time()

    def monotonic(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Really sleep."""
        time.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when `sleep` or `advance` is called."""

    def __init__(self, start: float = FAKE_EPOCH) -> None:
        self._lock = threading.Lock()
        self._now = float(start)
        self._mono = 0.0

    def time(self) -> float:
        """Unix seconds."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """Seconds since the clock was made."""
        with self._lock:
            return self._mono

    def sleep(self, seconds: float) -> None:
        """Advance both readings by `seconds` without blocking."""
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Advance both readings by `seconds`."""
        with self._lock:
            step = max(0.0, float(seconds))
            self._now += step
            self._mono += step


def iso(ts: float | None) -> str | None:
    """Render unix seconds as ISO 8601 UTC with a trailing Z."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
