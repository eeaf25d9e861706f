"""The file's schema version, and the in-place migration of a single-shop (v1) file to v2.

v1 (the files written before issue 13) had no `shop` column; v2 has `shop` in every table and
in every key. DuckDB cannot change a primary key in place, so each v1 table is rebuilt: renamed
aside, created again from its `warehouse/schema/<table>.sql`, filled with the old rows (their
`shop` takes its default, `'default'`) and the old table dropped. `schema.apply` runs this in its
one transaction, before anything else, and records `schema_version`; a file already at
`SCHEMA_VERSION` is left exactly as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from warehouse import sql

SCHEMA_VERSION = 2
DEFAULT_SHOP = "default"
_META = "schema_meta.sql"


def version(conn: duckdb.DuckDBPyConnection) -> int | None:
    """The recorded schema version; None for a file that records none (new, or v1)."""
    if not _exists(conn, "schema_meta"):
        return None
    row = conn.execute(sql.query("schema_meta_get"), {"key": "schema_version"}).fetchone()
    return int(row[0]) if row else None


def migrate(conn: duckdb.DuckDBPyConnection, table_files: dict[str, str]) -> list[str]:
    """Bring the file to SCHEMA_VERSION inside the caller's transaction; the tables rebuilt.

    `table_files` maps each table name to its DDL (a fixed set, never input). Runs once: a file
    whose recorded version is current returns at once, touching nothing.
    """
    conn.execute(sql.schema_files()[_META])
    if (version(conn) or 0) >= SCHEMA_VERSION:
        return []
    tables = sorted(t for t in table_files if t != "schema_meta")  # the file's, not a shop's
    rebuilt = [t for t in tables if _exists(conn, t) and not _has_shop(conn, t)]
    if rebuilt:
        for (view,) in conn.execute(sql.query("schema_views")).fetchall():
            conn.execute(f'drop view if exists "{view}"')  # re-created by schema.apply
    for table in rebuilt:
        _rebuild(conn, table, table_files[table])
    params = {"key": "schema_version", "value": str(SCHEMA_VERSION)}
    conn.execute(sql.query("schema_meta_set"), params)
    if rebuilt:
        stamp = datetime.now(UTC).isoformat()
        conn.execute(sql.query("schema_meta_set"), {"key": "migrated_v1_at", "value": stamp})
    return rebuilt


def _rebuild(conn: duckdb.DuckDBPyConnection, table: str, ddl: str) -> None:
    """Rename aside, create from the DDL, copy every row (shop 'default'), drop the old table."""
    old = f"_v1_{table}"
    conn.execute(f'alter table "{table}" rename to "{old}"')
    conn.execute(ddl)
    columns = [c for c in _columns(conn, old) if c in set(_columns(conn, table))]
    names = ", ".join(f'"{c}"' for c in columns)
    conn.execute(f'insert into "{table}" ({names}) select {names} from "{old}"')
    conn.execute(f'drop table "{old}"')


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = conn.execute(sql.query("schema_table_columns"), {"table": table}).fetchall()
    return [r[0] for r in rows]


def _exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(_columns(conn, table))


def _has_shop(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    return "shop" in _columns(conn, table)
