"""What DuckDB's catalog says about a table: its qualified name and its columns (no data)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from warehouse import sql
from warehouse.schema import TABLES


@dataclass(frozen=True)
class Column:
    """One column as the catalog declares it."""

    name: str
    type: str
    nullable: bool
    in_key: bool = False


@dataclass(frozen=True)
class TableShape:
    """A table's fully qualified name (`database.schema.table`) and its columns, in order."""

    name: str
    columns: tuple[Column, ...]

    @property
    def key(self) -> tuple[str, ...]:
        """The primary key's columns, in column order."""
        return tuple(c.name for c in self.columns if c.in_key)


def describe(conn: duckdb.DuckDBPyConnection, table: str) -> TableShape:
    """The shape of `table` (one of `schema.TABLES`) in the connection's database and schema."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    rows = conn.execute(sql.query("table_columns"), {"table": table}).fetchall()
    if not rows:
        raise LookupError(f"table {table!r} is not in the database")
    catalog, schema = rows[0][0], rows[0][1]
    columns = tuple(Column(str(n), str(t), bool(null), bool(key)) for _, _, n, t, null, key in rows)
    return TableShape(f"{catalog}.{schema}.{table}", columns)


def describe_all(conn: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> dict[str, TableShape]:
    """`{table: shape}` for each of `tables`."""
    return {table: describe(conn, table) for table in tables}
