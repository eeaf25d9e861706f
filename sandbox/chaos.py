"""Seeded fault decisions: 5xx, 429 bursts, drops, truncation, lost write responses, latency."""

from __future__ import annotations

import random

from sandbox.config import ChaosConfig


class Chaos:
    """Rolls the configured fault rates with its own RNG so runs are reproducible per seed."""

    def __init__(self, config: ChaosConfig, seed: int) -> None:
        self.config = config
        self.rng = random.Random(seed * 7919 + 13)
        self.burst_left = 0
        self.list_orders_seen = 0

    def _roll(self, rate: float) -> bool:
        # Only draw when a rate is set, so turning one fault on never shifts the others.
        return rate > 0 and self.rng.random() < rate

    def drop(self) -> bool:
        """Connection dropped before the request reaches the app."""
        return self._roll(self.config.drop)

    def burst_429(self) -> int:
        """Retry-After seconds when this request falls in a 429 burst, else 0."""
        if self.burst_left == 0 and self._roll(self.config.burst_429):
            self.burst_left = max(1, self.config.burst_length)
        if self.burst_left:
            self.burst_left -= 1
            return max(1, self.config.burst_retry_after)
        return 0

    def error_5xx(self) -> int:
        """A 5xx status to answer with instead of dispatching, else 0."""
        if self._roll(self.config.error_5xx):
            return self.rng.choice((500, 502, 503))
        return 0

    def after(self, is_write: bool, ok: bool) -> str | None:
        """The fault to apply to a dispatched response: drop_after_apply, truncate or None."""
        if is_write and ok and self._roll(self.config.drop_after_apply):
            return "drop_after_apply"
        if ok and self._roll(self.config.truncate):
            return "truncate"
        return None

    def delay(self, base_ms: int) -> float:
        """Seconds of latency for this response (config latency plus chaos latency and jitter)."""
        ms = base_ms + self.config.latency_ms
        if self.config.latency_jitter_ms:
            ms += self.rng.uniform(0, self.config.latency_jitter_ms)
        return ms / 1000.0

    def drift_due(self) -> int:
        """How many orders to create before this list-orders request (0 most of the time)."""
        if self.config.new_orders_during_walk <= 0:
            return 0
        self.list_orders_seen += 1
        if self.list_orders_seen % max(1, self.config.drift_every) == 0:
            return self.config.new_orders_during_walk
        return 0
