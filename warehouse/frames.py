"""Turn API records (plain dicts) into typed DataFrames plus rejects, built column-wise.

A record the warehouse cannot hold (a bad shape, an id beyond BIGINT or not positive, a number
beyond its DECIMAL column, a lone surrogate in any string) becomes a `Reject` naming the field.

Money columns hold validated decimal text (pandas has no exact decimal dtype without pyarrow and
float would be wrong); the merge SQL casts it to DECIMAL(18, 2). Timestamps are
datetime64[ns, UTC]; ids are int64 / nullable Int64; lists stay Python lists (VARCHAR[]).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from json import encoder as _json_encoder
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from warehouse import parse, records
from warehouse.errors import MissingKey
from warehouse.parse import BadField

ORDER_KEYS = ("shopify_order_id", "id")
OFFER_KEYS = ("id",)
_ORDER_TIMES = ("created_at", "cancelled_at", "charged_at")
_OFFER_TIMES = ("delivery_at", "created_at", "updated_at", "discarded_at")
_ID, _ID_END = "shopify_order_id", parse.ID_RANGE.stop


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# `raw` must be exactly json.dumps(record): the merge compares it verbatim and the ledger
# fingerprints it (md5). json.dumps builds a new C encoder on every call; reuse one (same
# arguments as json.dumps' defaults, minus the circular check: API records are trees).
_C_ENCODER = getattr(_json_encoder, "c_make_encoder", None)  # private: the C accelerator
_ENCODE = (
    _C_ENCODER(
        None, _refuse, _json_encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True
    )
    if _C_ENCODER is not None
    else None
)


def _dumps(record: Any) -> str:
    """A record as JSON text, byte for byte what `json.dumps(record)` writes."""
    if _ENCODE is None:  # no C accelerator (not on CPython builds we ship)
        return json.dumps(record)
    return "".join(_ENCODE(record, 0))


class Reject(NamedTuple):
    """A record that could not be typed: its key (when usable), why, and the record as JSON."""

    record_key: str | None
    reason: str
    raw: str


@dataclass(frozen=True)
class OrderFrames:
    """Orders (one row per order), their line items, and rejected records."""

    orders: pd.DataFrame
    line_items: pd.DataFrame
    rejects: list[Reject] = field(default_factory=list)


@dataclass(frozen=True)
class OfferFrames:
    """Offers (one row per offer), their variants, and rejected records."""

    offers: pd.DataFrame
    offer_variants: pd.DataFrame
    rejects: list[Reject] = field(default_factory=list)


def order_frames(batch: Iterable[Mapping[str, Any]]) -> OrderFrames:
    """Type a page of order records; bad shapes become rejects, key-less ones raise."""
    rows: list[tuple[Any, ...]] = []
    raws: list[str] = []
    lines: list[tuple[Any, ...]] = []
    rejects: list[Reject] = []
    order_row, line_items, dumps = records.order_row, records.line_items, _dumps
    for key, rec in _keyed(batch, "orders", ORDER_KEYS):
        raw = dumps(rec)
        if "\\ud" in raw and (unstorable := _unicode_reject(key, rec, raw)):
            rejects.append(unstorable)
            continue
        mark = len(lines)
        try:
            oid = key if type(key) is int and 0 < key < _ID_END else parse.identifier(key, _ID)
            rows.append(order_row(oid, rec))  # type: ignore[arg-type]
            line_items(oid, rec.get("line_items"), lines)  # type: ignore[arg-type]
        except BadField as exc:
            if len(rows) > len(raws):
                rows.pop()
            del lines[mark:]
            rejects.append(Reject(parse.printable(str(key)), str(exc), raw))
            continue
        raws.append(raw)
    columns = _transpose(rows, records.ORDER_COLUMNS)
    columns["raw"] = raws
    bad = _parse_times(columns, _ORDER_TIMES)
    columns["id"] = np.asarray(columns["id"], dtype=np.int64)
    columns["customer_id"] = pd.array(columns["customer_id"], dtype="Int64")
    orders, items = _frame(columns), _line_frame(_transpose(lines, records.LINE_COLUMNS))
    if bad:
        orders, items = _drop_rejected(orders, items, bad, rejects)
    return OrderFrames(orders, items, rejects)


def offer_frames(batch: Iterable[Mapping[str, Any]]) -> OfferFrames:
    """Type a batch of offer records; bad shapes become rejects, key-less ones raise."""
    rows: list[tuple[Any, ...]] = []
    raws: list[str] = []
    variants: dict[str, list[Any]] = {"offer_id": [], "shopify_variant_id": []}
    rejects: list[Reject] = []
    for key, rec in _keyed(batch, "offers", OFFER_KEYS):
        raw = _dumps(rec)
        if "\\ud" in raw and (unstorable := _unicode_reject(key, rec, raw)):
            rejects.append(unstorable)
            continue
        try:
            oid = parse.required_text(key, "id")
            caps = parse.mapping(rec.get("capabilities"), "capabilities")
            ids = records.variant_ids(rec, caps)
            row = records.offer_row(oid, rec, ids)
        except BadField as exc:
            rejects.append(Reject(parse.printable(str(key)), str(exc), raw))
            continue
        rows.append(row)
        raws.append(raw)
        variants["offer_id"].extend([oid] * len(ids or ()))
        variants["shopify_variant_id"].extend(ids or ())
    columns = _transpose(rows, records.OFFER_COLUMNS)
    columns["raw"] = raws
    bad = _parse_times(columns, _OFFER_TIMES)
    columns["variant_count"] = pd.array(columns["variant_count"], dtype="Int64")
    columns["enabled"] = pd.array(columns["enabled"], dtype="boolean")
    columns["has_variant_list"] = np.asarray(columns["has_variant_list"], dtype=bool)
    offers = _frame(columns)
    links = pd.DataFrame(
        {
            "offer_id": pd.Series(variants["offer_id"], dtype=object),
            "shopify_variant_id": np.asarray(variants["shopify_variant_id"], dtype=np.int64),
        }
    )
    if bad:
        offers, links = _drop_rejected(offers, links, bad, rejects)
    return OfferFrames(offers, links, rejects)


def _unicode_reject(key: Any, rec: Any, raw: str) -> Reject | None:
    """A reject for a record holding a lone surrogate (DuckDB stores no such text), or None.

    Its JSON (with a `\\udXXX` escape) is no JSON DuckDB parses either, so `raw` keeps it as a
    JSON string: json_extract_string(raw, '$') gives back the record's text, byte for byte.
    """
    reason = parse.bad_unicode(rec, raw)
    if reason is None:
        return None
    key_text, why = parse.printable(str(key)), f"{reason}; raw kept as a JSON string"
    return Reject(key_text, why, json.dumps(raw))


def _keyed(
    batch: Iterable[Mapping[str, Any]], stream: str, keys: tuple[str, ...]
) -> list[tuple[Any, Mapping[str, Any]]]:
    """(key, record) pairs deduplicated by key, last one wins; MissingKey for a key-less record."""
    pairs: list[tuple[Any, Mapping[str, Any]]] = []
    seen: set[Any] = set()
    for position, rec in enumerate(batch):
        key = None
        if isinstance(rec, Mapping):
            for name in keys:
                key = rec.get(name)
                if key is not None:
                    break
        if key is None:
            raise MissingKey(stream, keys, position)
        if type(key) is not int and type(key) is not str:
            key = str(key)
        seen.add(key)
        pairs.append((key, rec))
    if len(seen) < len(pairs):  # a key twice in one batch: keep the last occurrence
        return list({key: rec for key, rec in pairs}.items())
    return pairs


def _transpose(rows: list[tuple[Any, ...]], names: list[str]) -> dict[str, Any]:
    """Row tuples to a dict of column lists."""
    if not rows:
        return {name: [] for name in names}
    return dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))


def _parse_times(columns: dict[str, Any], names: tuple[str, ...]) -> dict[int, str]:
    """Parse the named timestamp columns in place; return {row: reason} for unparseable values."""
    bad: dict[int, str] = {}
    for name in names:
        source = columns[name]
        columns[name], mask = parse.timestamps(source)
        for row in np.flatnonzero(mask.to_numpy()):
            shown = parse.show(source[row])
            bad.setdefault(int(row), f"{name} is not an ISO 8601 timestamp: {shown}")
    return bad


def _drop_rejected(
    frame: pd.DataFrame, children: pd.DataFrame, bad: dict[int, str], rejects: list[Reject]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Move rows with an unparseable timestamp to `rejects` and drop them and their child rows."""
    rows = sorted(bad)
    for row in rows:
        rejects.append(Reject(str(frame.at[row, "id"]), bad[row], str(frame.at[row, "raw"])))
    positions = np.asarray(rows, dtype=np.int64)
    dropped = frame["id"].iloc[positions]
    kept = frame.drop(index=frame.index[positions])
    kept_children = children[~children.iloc[:, 0].isin(dropped)]
    return kept.reset_index(drop=True), kept_children.reset_index(drop=True)


def _line_frame(lines: dict[str, Any]) -> pd.DataFrame:
    """Line item columns as a DataFrame with integer dtypes."""
    frame: dict[str, Any] = dict(lines)
    frame["order_id"] = np.asarray(lines["order_id"], dtype=np.int64)
    frame["line_index"] = np.asarray(lines["line_index"], dtype=np.int32)
    for name in ("shopify_variant_id", "shopify_product_id", "quantity"):
        frame[name] = pd.array(lines[name], dtype="Int64")
    return _frame(frame)


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    """A DataFrame from columns; lists become object arrays up front (pandas skips re-inference)."""
    out: dict[str, Any] = {}
    for name, values in columns.items():
        if isinstance(values, list):
            array = np.empty(len(values), dtype=object)
            array[:] = values
            values = array
        out[name] = values
    return pd.DataFrame(out, copy=False)


def keep_latest(frames: pd.DataFrame, children: pd.DataFrame, key: str) -> tuple[pd.DataFrame, ...]:
    """Keep the last chunk's version of a key seen in several chunks (`_seq` marks the chunk)."""
    if not frames["id"].duplicated().any():
        return frames, children
    kept = frames.drop_duplicates("id", keep="last")
    pairs = pd.MultiIndex.from_arrays([kept["id"], kept["_seq"]])
    mask = pd.MultiIndex.from_arrays([children[key], children["_seq"]]).isin(pairs)
    return kept.reset_index(drop=True), children[mask].reset_index(drop=True)


def concat_chunks(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate chunks, tagging each row with its chunk number in `_seq`."""
    tagged = [c.assign(_seq=np.full(len(c), i, dtype=np.int32)) for i, c in enumerate(chunks)]
    return pd.concat(tagged, ignore_index=True) if len(tagged) > 1 else tagged[0]
