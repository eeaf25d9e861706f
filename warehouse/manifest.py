"""The `stoq_manifest` table: the last /help manifest STOQ served, one row per action."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from warehouse import sql
from warehouse.migrate import DEFAULT_SHOP
from warehouse.schema import use_utc

COLUMNS = ("method", "path", "name", "aliases", "required_fields", "raw")


def frame(actions: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per action (the first of any repeated method and path); lists as JSON text."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for action in actions:
        key = (str(action["method"]), str(action["path"]))
        if key in rows:
            continue
        schema = action.get("request_schema")
        required = schema.get("required") if isinstance(schema, Mapping) else None
        rows[key] = {
            "method": key[0],
            "path": key[1],
            "name": _text(action.get("name")),
            "aliases": json.dumps([str(a) for a in _list(action.get("aliases"))]),
            "required_fields": json.dumps([str(f) for f in _list(required)]),
            "raw": json.dumps(dict(action), sort_keys=True),
        }
    return pd.DataFrame(list(rows.values()), columns=list(COLUMNS), dtype="object")


def replace_manifest(
    conn: duckdb.DuckDBPyConnection,
    actions: Iterable[Mapping[str, Any]],
    fetched_at: datetime,
    shop: str = DEFAULT_SHOP,
) -> int:
    """Replace `shop`'s rows with these actions in one transaction; the rows written."""
    data = frame(actions)
    use_utc(conn)
    conn.register("_manifest_frame", data)
    conn.begin()
    try:
        conn.execute(sql.query("stoq_manifest_delete"), {"shop": shop})
        params = {"fetched_at": fetched_at, "shop": shop}
        conn.execute(sql.query("stoq_manifest_insert"), params)
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.unregister("_manifest_frame")
    conn.commit()
    return len(data)


def stored_manifest(
    conn: duckdb.DuckDBPyConnection, shop: str = DEFAULT_SHOP
) -> tuple[dict[str, Any], datetime] | None:
    """`shop`'s stored manifest (`{"actions": [...]}`) and when it was fetched; None before."""
    rows = conn.execute(sql.query("stoq_manifest_rows"), {"shop": shop}).fetchall()
    if not rows:
        return None
    return {"actions": [json.loads(raw) for raw, _ in rows]}, max(at for _, at in rows)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []
