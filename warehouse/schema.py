"""Create every table and view from `warehouse/schema/*.sql` (idempotent); UTC sessions."""

from __future__ import annotations

import functools
import hashlib
import re

import duckdb

from warehouse import exports, migrate, sql

#: Tables the loaders write; SQL table names only ever come from this set.
TABLES = frozenset(
    {
        "offers",
        "offer_variants",
        "orders",
        "order_line_items",
        "order_state_history",
        "sync_state",
        "sync_runs",
        "_rejects",
        "stoq_manifest",
        "schema_meta",
    }
)
VIEWS = frozenset({"preorder_backlog", "releasable_orders"})

_VIEW = re.compile(r"^\s*create\s+(or\s+replace\s+)?view\b", re.IGNORECASE | re.MULTILINE)


def use_utc(conn: duckdb.DuckDBPyConnection) -> None:
    """Set the connection's TimeZone to UTC so TIMESTAMPTZ values render and bucket in UTC."""
    conn.execute("SET TimeZone = 'UTC'")


def ordered_files() -> list[tuple[str, str]]:
    """Schema files in apply order: tables (by name), then views (by name)."""
    files = sql.schema_files()
    tables = [(n, t) for n, t in files.items() if not _VIEW.search(t)]
    views = [(n, t) for n, t in files.items() if _VIEW.search(t)]
    return tables + views


def table_files() -> dict[str, str]:
    """`{table name: DDL}` for every table file (views apart), e.g. `{"orders": "create ..."}`."""
    return {n.removesuffix(".sql"): t for n, t in ordered_files() if not _VIEW.search(t)}


def apply(conn: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and (re)create views in one transaction; safe to run repeatedly.

    A single-shop (v1) file is first migrated in place, once (`warehouse.migrate`: its rows
    become shop `default`, the schema version is recorded). Old export tables (`report_<name>`)
    move to `export_<name>` first, out of the views' way.
    Also sets the session TimeZone to UTC (DuckDB settings are per connection; loads set it too).
    """
    use_utc(conn)
    if _applied(conn):  # every open of a sync's windows would otherwise rewrite the catalog
        return
    conn.begin()
    try:
        exports.rename_legacy_tables(conn)
        migrate.migrate(conn, table_files())
        for _name, text in ordered_files():
            conn.execute(text)
        params = {"key": "schema_files", "value": fingerprint()}
        conn.execute(sql.query("schema_meta_set"), params)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


@functools.cache
def fingerprint() -> str:
    """A digest of every schema file, recorded in `schema_meta` by the apply that ran them."""
    digest = hashlib.sha256()
    for name, text in ordered_files():
        digest.update(f"{name}\0{text}\0".encode())
    return digest.hexdigest()[:32]


def _applied(conn: duckdb.DuckDBPyConnection) -> bool:
    """True when the file records that these very schema files were applied to it (a changed
    file, a new table or view, applies again)."""
    try:
        row = conn.execute(sql.query("schema_meta_get"), {"key": "schema_files"}).fetchone()
    except duckdb.CatalogException:  # no schema_meta: a new file, or one from before it
        return False
    return row is not None and row[0] == fingerprint()
