"""When to retry and how long to wait (SPEC §8.11, §8.19)."""

from __future__ import annotations

import datetime
import email.utils
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from stoq._params import finite
from stoq.body import Cut

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})

# Failures where the request provably never reached the server, so even a write may be resent.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# Failures where no connection could be made at all (DNS, refused, unroutable, no answer to
# the handshake): after every retry, errors.Unreachable.
UNREACHABLE = (httpx.ConnectError, httpx.ConnectTimeout)

# Failures a retry cannot cure (a bad URL or scheme): they fail at once.
CONFIGURATION_ERRORS = (httpx.UnsupportedProtocol, httpx.InvalidURL)


@dataclass
class RetryPolicy:
    """Capped exponential backoff with full jitter; `max_retries` extra attempts at most."""

    max_retries: int = 6
    base: float = 0.5
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    #: The least wait after a 429, whatever the server says (`Retry-After: 0` included).
    floor: float = 0.1

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (0-based): uniform in [0, cap]."""
        return self.rng.uniform(0.0, min(self.cap, self.base * 2**attempt))

    def rate_limit_wait(self, attempt: int, hint: float | None) -> float:
        """Seconds to hold back after a 429: the server's hint, but never less than this
        attempt's backoff nor `floor`, so `Retry-After: 0` cannot make a tight loop."""
        return max(hint or 0.0, self.backoff(attempt), self.floor)


def failure_reason(failure: Exception | int) -> str:
    """A few words for why an attempt failed: a transport error, a Cut, or an HTTP status."""
    if isinstance(failure, int):
        return f"server error {failure}" if failure >= 500 else f"HTTP {failure}"
    if isinstance(failure, UNREACHABLE):
        return "cannot reach host"
    if isinstance(failure, httpx.TimeoutException):
        return "timed out"
    if isinstance(failure, Cut):
        return "answer cut off"
    return f"connection error ({type(failure).__name__})"


def is_retryable_status(status: int) -> bool:
    """429 and 5xx are worth another try for reads."""
    return status in RETRYABLE_STATUS or 500 <= status < 600


def retry_after(
    response: httpx.Response,
    body: Any,
    wall_clock: Callable[[], float],
    max_wait: float,
) -> float | None:
    """Seconds to wait after a 429: Retry-After header, body `retry_after`, X-RateLimit-Reset."""
    header = response.headers.get("retry-after")
    if header is not None:
        seconds = _parse_retry_after(header.strip(), wall_clock)
        if seconds is not None:
            return max(seconds, 0.0)
    if isinstance(body, dict):
        value = body.get("retry_after")
        if isinstance(value, int | float | str) and (seconds := finite(value)) is not None:
            return max(seconds, 0.0)
    reset = response.headers.get("x-ratelimit-reset")
    if reset is not None and (at := finite(reset)) is not None:
        # A skewed clock must not turn a reset into a long sleep: cap at the window.
        return min(max(at - wall_clock(), 0.0), max_wait)
    return None


def _parse_retry_after(value: str, wall_clock: Callable[[], float]) -> float | None:
    seconds = finite(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT; a naive parse must not pick up local time
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp() - wall_clock()
