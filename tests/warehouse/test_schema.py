"""schema.apply: idempotent, every table keyed, UTC session."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse import schema

OWN_TABLES = {
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


def _tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    rows = conn.execute("select table_name from duckdb_tables() where not temporary").fetchall()
    return {name for (name,) in rows}


def test_apply_creates_tables_and_views(conn: duckdb.DuckDBPyConnection) -> None:
    assert _tables(conn) >= OWN_TABLES
    views = {name for (name,) in conn.execute("select view_name from duckdb_views()").fetchall()}
    assert {"preorder_backlog", "releasable_orders"} <= views
    assert schema.TABLES == OWN_TABLES


def test_every_table_has_a_primary_key(conn: duckdb.DuckDBPyConnection) -> None:
    keyed = {
        name
        for (name,) in conn.execute(
            "select table_name from duckdb_constraints() where constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    }
    assert _tables(conn) <= keyed


def test_apply_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    with duckdb.connect(path) as first:
        schema.apply(first)
        first.execute("insert into sync_state (stream, updated_at) values ('orders', now())")
    with duckdb.connect(path) as second:
        schema.apply(second)
        schema.apply(second)
        assert second.execute("select count(*) from sync_state").fetchone() == (1,)


def test_apply_sets_utc(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        c.execute("set TimeZone = 'America/New_York'")
        schema.apply(c)
        assert c.execute("select current_setting('TimeZone')").fetchone() == ("UTC",)


def test_tables_come_before_views() -> None:
    names = [name for name, _ in schema.ordered_files()]
    assert names.index("orders.sql") < names.index("preorder_backlog.sql")
    assert names.index("order_line_items.sql") < names.index("releasable_orders.sql")


def test_an_open_with_the_same_schema_files_applies_nothing(tmp_path):
    """The digest of the schema files applied is recorded; the same files skip the apply (a
    sync opens the file twice per stream), other files apply again."""
    path = str(tmp_path / "w.duckdb")
    with duckdb.connect(path) as c:
        schema.apply(c)
        recorded = c.execute("select value from schema_meta where key = 'schema_files'").fetchone()
        c.execute("drop view releasable_orders")  # gone, and the same files are recorded
    assert recorded == (schema.fingerprint(),)
    with duckdb.connect(path) as c:
        schema.apply(c)
        assert c.execute(
            "select count(*) from duckdb_views() where view_name = 'releasable_orders'"
        ).fetchone() == (0,)
        c.execute("update schema_meta set value = 'older' where key = 'schema_files'")
    with duckdb.connect(path) as c:
        schema.apply(c)  # other files recorded: applied again, the view back
        assert c.execute(
            "select count(*) from duckdb_views() where view_name = 'releasable_orders'"
        ).fetchone() == (1,)
