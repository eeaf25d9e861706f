"""The pauses a client takes (a retry's backoff, a hold for the rate limit), told as they begin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Wait:
    """A pause about to start: `seconds` long, and why (e.g. "cannot reach host", "429")."""

    kind: Literal["retry", "rate_limit"]
    seconds: float
    reason: str
    retry: int = 0  # a retry: which one (1-based) of at most `retries`
    retries: int = 0


#: Called from whichever thread is about to wait (walks fetch pages on several): keep it quick.
OnWait = Callable[[Wait], None]
