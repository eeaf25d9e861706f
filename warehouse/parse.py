"""Field parsers: each returns a clean value or raises `BadField` naming the problem."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

import pandas as pd

# A decimal amount DuckDB can always cast to DECIMAL(18, 2): 15 integer digits, so even
# rounding the fraction up cannot overflow. Longer ones take the exact check in decimal_text.
MONEY = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]+)?")
# A percentage DuckDB can always cast to DECIMAL(9, 4) (same reasoning).
_PERCENT = re.compile(r"-?[0-9]{1,4}(?:\.[0-9]+)?")
_DIGITS = re.compile(r"-?[0-9]{1,40}")
_NUMBER = re.compile(r"-?[0-9]{1,40}(?:\.[0-9]{1,40})?")  # [0-9]: \d takes any script's digits
#: pattern -> (integer digits, scale) of the column it feeds
_COLUMNS = {MONEY: (16, 2), _PERCENT: (5, 4)}
_WIDE = Context(prec=100)
_INT64 = range(-(2**63), 2**63)
_INT32 = range(-(2**31), 2**31)
#: Ids are positive BIGINTs: 0, a negative or a wider id is not an id the shop can have.
ID_RANGE = range(1, 2**63)


class BadField(ValueError):
    """A field has a shape the warehouse cannot type; the record becomes a reject."""


def printable(text: str) -> str:
    """`text`, with any lone surrogate written as `\\udXXX` so that it can be stored."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def show(value: Any) -> str:
    """A short repr of a value for a reason text."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def decimal_text(value: Any, field: str, pattern: re.Pattern[str] = MONEY) -> str | None:
    """A decimal string/number as canonical text (DuckDB casts it exactly), or None."""
    if value is None:
        return None
    kind = type(value)
    text = value if kind is str else None
    if kind is int or (kind is float and math.isfinite(value)):
        text = repr(value)
    if text is None or not _NUMBER.fullmatch(text):
        raise BadField(f"{field} is not a decimal amount: {show(value)}")
    if pattern.fullmatch(text):
        return text
    digits, scale = _COLUMNS[pattern]
    # DuckDB rounds half away from zero when it casts; past the column's width it fails.
    # _NUMBER admits 80 digits: quantize in a context wide enough for all of them (the default
    # 28 would raise InvalidOperation and fail the stream instead of rejecting the record).
    rounded = abs(Decimal(text)).quantize(
        Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP, context=_WIDE
    )
    if rounded >= 10**digits:
        raise BadField(f"{field} is beyond DECIMAL({digits + scale}, {scale}): {show(value)}")
    return text


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
    if kind is str and _DIGITS.fullmatch(value) and int(value) in span:
        return int(value)
    raise BadField(f"{field} is not a {bits}-bit integer: {show(value)}")


def identifier(value: Any, field: str) -> int | None:
    """A positive 64-bit id from a JSON number or digit string, or None."""
    if value is None:
        return None
    kind = type(value)
    if kind is str and _DIGITS.fullmatch(value):
        value, kind = int(value), int
    if kind is int and value in ID_RANGE:
        return int(value)
    if kind is int and value in _INT64:
        raise BadField(f"{field} is not a positive id: {show(value)}")
    if kind is int:
        raise BadField(f"{field} is beyond BIGINT: {show(value)}")
    raise BadField(f"{field} is not an integer id: {show(value)}")


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


def bad_unicode(record: Any, raw: str) -> str | None:
    """Where `record` holds a string DuckDB cannot store (a lone surrogate), or None.

    `raw` is the record as ASCII JSON: a surrogate, paired or lone, shows as `\\udXXX`, so a
    record without that text is clean and only the rare rest is walked.
    """
    if "\\ud" not in raw:
        return None
    return _bad_text(record, "")


def _bad_text(value: Any, where: str) -> str | None:
    """The path of the first string (key or value) UTF-8 cannot encode, or None."""
    if type(value) is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            char = f"U+{ord(value[exc.start]):04X}"
            return f"{where or 'record'} is not valid Unicode (lone surrogate {char})"
        return None
    if type(value) is dict:
        for key, item in value.items():
            name = printable(key) if type(key) is str else str(key)
            path = f"{where}.{name}" if where else name
            found = _bad_text(key, f"{path} (a key)") or _bad_text(item, path)
            if found:
                return found
    elif type(value) is list:
        for index, item in enumerate(value):
            if found := _bad_text(item, f"{where}[{index}]"):
                return found
    return None
