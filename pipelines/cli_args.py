"""Argument types the commands share: each refuses a bad value with a line naming it (exit 2)."""

from __future__ import annotations

import argparse
import math

#: The longest wait a flag may ask for: a billion seconds is ~32 years.
MAX_SECONDS = 10**9


def seconds(text: str) -> float:
    """A positive, finite number of seconds (`--interval 0` would poll without a pause)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_SECONDS:  # also nan and inf
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, not {text!r}")
    return value
