"""Field parsers: each returns a clean value or raises `BadField` naming the problem."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

# A decimal amount DuckDB can always cast to DECIMAL(18, 2) (at most 16 integer digits).
MONEY = re.compile(r"-?\d{1,16}(?:\.\d+)?")
# A percentage DuckDB can always cast to DECIMAL(9, 4).
_PERCENT = re.compile(r"-?\d{1,5}(?:\.\d+)?")
_INT64 = range(-(2**63), 2**63)
_INT32 = range(-(2**31), 2**31)


class BadField(ValueError):
    """A field has a shape the warehouse cannot type; the record becomes a reject."""


def show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def decimal_text(value: Any, field: str, pattern: re.Pattern[str] = MONEY) -> str | None:
    """A decimal string/number as canonical text (DuckDB casts it exactly), or None."""
    if value is None:
        return None
    kind = type(value)
    if kind is str and pattern.fullmatch(value):
        return value
    if kind is int or (kind is float and math.isfinite(value)):
        text = repr(value)
        if pattern.fullmatch(text):
            return text
    raise BadField(f"{field} is not a decimal amount: {show(value)}")


def percent_text(value: Any, field: str) -> str | None:
    """A percentage (string or number) as canonical text, or None."""
    return decimal_text(value, field, _PERCENT)


def integer(value: Any, field: str, bits: int = 64) -> int | None:
    """A 64-bit (or 32-bit) integer from a JSON number or digit string, or None."""
    if value is None:
        return None
    span = _INT64 if bits == 64 else _INT32
    kind = type(value)
    if kind is int and value in span:
        return int(value)
    if kind is str and value.lstrip("-").isdigit() and int(value) in span:
        return int(value)
    raise BadField(f"{field} is not a {bits}-bit integer: {show(value)}")


def text(value: Any, field: str) -> str | None:
    """A string, or None."""
    if value is None or type(value) is str:
        return value
    raise BadField(f"{field} is not a string: {show(value)}")


def required_text(value: Any, field: str) -> str:
    """A non-empty string."""
    if type(value) is str and value:
        return value
    raise BadField(f"{field} is missing or not a string: {show(value)}")


def boolean(value: Any, field: str) -> bool | None:
    """A JSON boolean, or None."""
    if value is None or type(value) is bool:
        return value
    raise BadField(f"{field} is not a boolean: {show(value)}")


def mapping(value: Any, field: str) -> dict[str, Any]:
    """A JSON object (None becomes an empty one)."""
    if value is None:
        return {}
    if type(value) is dict:
        return value
    raise BadField(f"{field} is not an object: {show(value)}")


def text_list(value: Any, field: str) -> list[str] | None:
    """A list of strings, or None."""
    if value is None:
        return None
    if type(value) is list and all(type(v) is str for v in value):
        return value
    raise BadField(f"{field} is not a list of strings: {show(value)}")


def timestamps(values: list[str | None]) -> tuple[pd.Series, pd.Series]:
    """Parse ISO 8601 strings to UTC; returns (datetime64[ns, UTC] series, mask of unparseable)."""
    source = pd.Series(values, dtype=object)
    if not any(values) and all(v is None for v in values):  # all null: skip the parser
        empty = pd.Series(pd.NaT, index=source.index, dtype="datetime64[ns, UTC]")
        return empty, pd.Series(False, index=source.index)
    parsed = pd.to_datetime(source, utc=True, format="ISO8601", errors="coerce")
    return parsed, parsed.isna() & source.notna()
