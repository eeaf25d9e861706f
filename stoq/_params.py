"""Query parameters, path segments and lenient record normalisation."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from stoq.errors import MalformedResponse

Record = dict[str, Any]


def query(params: Mapping[str, Any]) -> dict[str, Any]:
    """Drop None, format dates (ISO 8601, UTC 'Z'), rename `from_` -> `from`, lists -> `key[]`."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        key = name.rstrip("_")
        if isinstance(value, list | tuple | set | frozenset):
            key = key if key.endswith("[]") else f"{key}[]"
            out[key] = [scalar(v) for v in value]
        else:
            out[key] = scalar(value)
    return out


def body(params: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON body from keyword arguments: drop None, format dates, `from_` -> `from`."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, dt.date):
            value = scalar(value)
        elif isinstance(value, list | tuple | set | frozenset):
            value = [scalar(v) if isinstance(v, dt.date) else v for v in value]
        out[name.rstrip("_")] = value
    return out


def scalar(value: Any) -> str:
    """One query value as text."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def iso(value: dt.datetime) -> str:
    """ISO 8601 in UTC with a 'Z'; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    text = value.astimezone(dt.UTC).isoformat()
    return text.replace("+00:00", "Z")


def widen_to_dates(query: dict[str, Any]) -> bool:
    """Turn datetime `from`/`to` into dates a day wider (time-zone safe); False if none were."""
    changed = False
    for key, days in (("from", -1), ("to", 1)):
        value = query.get(key)
        if not isinstance(value, str) or "T" not in value:
            continue
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC)
        query[key] = (moment.date() + dt.timedelta(days=days)).isoformat()
        changed = True
    return changed


def segment(value: object, what: str) -> str:
    """A path segment, percent-encoded so an id can never reshape the path."""
    text = str(value).strip()
    if not text:
        raise ValueError(f"{what} must not be empty")
    return quote(text, safe="")


def json_object(body: Any, method: str, path: str) -> Record:
    """`body` when it is a JSON object; MalformedResponse otherwise."""
    if not isinstance(body, dict):
        raise MalformedResponse(f"{method} {path}: expected a JSON object")
    return body


def int_id(value: object, what: str) -> int:
    """A Shopify id as an int (numeric strings are accepted)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and ascii_digits(value.strip()):
        return int(value)
    raise ValueError(f"{what} must be an integer id, not {value!r}")


def int_ids(values: Iterable[object], what: str) -> list[int]:
    """A list of Shopify ids as ints."""
    if isinstance(values, str | bytes):
        raise ValueError(f"{what} must be a list of ids, not a string")
    return [int_id(v, what) for v in values]


def _coerce_int(record: Record, field: str) -> None:
    value = record.get(field)
    if isinstance(value, str) and ascii_digits(value.strip().removeprefix("-")):
        record[field] = int(value)


def order(record: Any) -> Record:
    """An order dict with `id`/`shopify_order_id` as ints; unknown fields kept."""
    record = _as_record(record, "order")
    for field in ("id", "shopify_order_id"):
        _coerce_int(record, field)
    return record


def variant(record: Any) -> Record:
    """A product-variant dict with `shopify_variant_id` as an int; unknown fields kept."""
    record = _as_record(record, "product variant")
    for field in ("shopify_variant_id", "id"):
        _coerce_int(record, field)
    return record


def reports(body: Record) -> list[Any]:
    """The report catalog's `reports` list (MalformedResponse when there is none)."""
    found = body.get("reports")
    if not isinstance(found, list):
        raise MalformedResponse("GET /preorders/reports: no 'reports' list")
    return found


def offer(record: Any) -> Record:
    """An offer dict with `id` as a string; unknown fields kept."""
    record = _as_record(record, "offer")
    if record.get("id") is not None:
        record["id"] = str(record["id"])
    return record


def _as_record(record: Any, what: str) -> Record:
    if not isinstance(record, dict):
        raise MalformedResponse(
            f"expected a JSON object for the {what}, got {type(record).__name__}"
        )
    return dict(record)


def order_key(record: Record) -> object:
    """Orders dedupe on `shopify_order_id`, falling back to `id`."""
    key = record.get("shopify_order_id")
    return record.get("id") if key is None else key


def offer_key(record: Record) -> object:
    """Offers dedupe on `id`."""
    return record.get("id")


def variant_key(record: Record) -> object:
    """Product variants dedupe on `shopify_variant_id`."""
    return record.get("shopify_variant_id")


@dataclass(frozen=True)
class Listing:
    """How to read one list endpoint: its list key, record normaliser and dedupe key."""

    path: str
    list_key: str
    normalize: Callable[[Any], Record]
    key: Callable[[Record], object]
    key_name: str


OFFERS = Listing("/preorders/offers", "offers", offer, offer_key, "id")
ORDERS = Listing("/preorders/orders", "orders", order, order_key, "shopify_order_id or id")
VARIANTS = Listing(
    "/preorders/product_variants", "product_variants", variant, variant_key, "shopify_variant_id"
)


class Written(dict[str, Any]):
    """A write's answer as a plain dict, plus the HTTP status the server sent (200 or 202...)."""

    def __init__(self, record: dict[str, Any], *, status: int) -> None:
        super().__init__(record)
        self.status = status


def ascii_digits(text: str) -> bool:
    """Only 0-9 (str.isdigit also takes '²' and other scripts' digits, which int() reads
    differently or not at all)."""
    return text.isascii() and text.isdigit()


def finite(value: str | float | None) -> float | None:
    """A server's number (header text, a JSON value) when it is finite; None for anything else:
    'nan' and 'inf' parse as floats but would turn every wait computed from them into none."""
    if value is None:
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # not a number; an integer too big for a float
        return None
    return number if math.isfinite(number) else None
