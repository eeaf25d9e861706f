"""A single-shop (v1) file, written by the code before issue 13, is migrated in place once."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest

from warehouse import migrate, schema

FIXTURE = Path(__file__).parent / "fixtures" / "warehouse_v1.duckdb.gz"
V1_TABLES = (
    "_rejects", "jobs", "offer_variants", "offers", "order_actions", "order_line_items",
    "order_state_history", "orders", "stoq_manifest", "sync_runs", "sync_state",
)  # fmt: skip


@pytest.fixture
def v1_file(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with gzip.open(FIXTURE) as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def _counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in V1_TABLES}  # type: ignore[index]


def test_the_fixture_is_a_v1_file(v1_file: Path) -> None:
    with duckdb.connect(str(v1_file), read_only=True) as conn:
        columns = {
            r[0] for r in conn.execute("select column_name from duckdb_columns()").fetchall()
        }
        counts = _counts(conn)
        assert migrate.version(conn) is None
    assert "shop" not in columns
    assert counts["orders"] == 40 and counts["order_actions"] > 0 and counts["jobs"] > 0


def test_a_v1_file_is_migrated_in_place_with_every_row_kept(v1_file: Path) -> None:
    with duckdb.connect(str(v1_file), read_only=True) as conn:
        before = _counts(conn)
        orders = conn.execute("select * from orders order by id").fetchall()
        ledger = conn.execute("select * from order_actions order by key").fetchall()
    with duckdb.connect(str(v1_file)) as conn:
        schema.apply(conn)
        assert _counts(conn) == before
        assert migrate.version(conn) == migrate.SCHEMA_VERSION
        for table in V1_TABLES:
            shops = conn.execute(f"select distinct shop from {table}").fetchall()
            assert shops in ([], [("default",)]), table
        # every value kept: the old columns, in their old order, after the new `shop`
        assert conn.execute("select * exclude (shop) from orders order by id").fetchall() == orders
        rows = conn.execute("select * exclude (shop) from order_actions order by key").fetchall()
        assert rows == ledger
        keys = conn.execute(
            "select constraint_column_names from duckdb_constraints() "
            "where table_name = 'orders' and constraint_type = 'PRIMARY KEY'"
        ).fetchone()
        assert keys == (["shop", "id"],)
        assert conn.execute("select shop, count(*) from preorder_backlog group by 1").fetchall()


def test_a_second_open_does_not_migrate_again(v1_file: Path) -> None:
    with duckdb.connect(str(v1_file)) as conn:
        schema.apply(conn)
        stamp = conn.execute("select * from schema_meta order by 1").fetchall()
        before = _counts(conn)
        # markers a rebuild would lose: a table comment, and a table that looks v1 again
        conn.execute("comment on table orders is 'marker'")
        conn.execute("drop table stoq_manifest")
        conn.execute("create table stoq_manifest (method varchar, path varchar)")
    with duckdb.connect(str(v1_file)) as conn:
        schema.apply(conn)
        assert migrate.migrate(conn, schema.table_files()) == []  # the version decides
        comment = conn.execute("select comment from duckdb_tables() where table_name = 'orders'")
        assert comment.fetchone() == ("marker",)
        columns = conn.execute(
            "select column_name from duckdb_columns() where table_name = 'stoq_manifest'"
        )
        assert [r[0] for r in columns.fetchall()] == ["method", "path"]
        assert conn.execute("select * from schema_meta order by 1").fetchall() == stamp
        assert {t: n for t, n in _counts(conn).items() if t != "stoq_manifest"} == {
            t: n for t, n in before.items() if t != "stoq_manifest"
        }


def test_a_new_file_records_the_version_and_opens_unchanged(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "new.duckdb")) as conn:
        schema.apply(conn)
        assert migrate.version(conn) == migrate.SCHEMA_VERSION
        meta = conn.execute("select key from schema_meta order by key").fetchall()
        assert meta == [("schema_files",), ("schema_version",)]  # nothing was migrated
        conn.execute("comment on table orders is 'marker'")
        schema.apply(conn)
        comment = conn.execute("select comment from duckdb_tables() where table_name = 'orders'")
        assert comment.fetchone() == ("marker",)
        assert conn.execute("select count(*) from schema_meta").fetchone() == (2,)


def test_a_failed_migration_leaves_the_v1_file_as_it_was(v1_file: Path) -> None:
    with duckdb.connect(str(v1_file)) as conn:
        before = _counts(conn)
        files = schema.table_files()
        files["orders"] = "create table orders (broken"  # fails after other tables were rebuilt
        conn.begin()
        with pytest.raises(duckdb.ParserException):
            migrate.migrate(conn, files)
        conn.rollback()
        assert migrate.version(conn) is None
        assert _counts(conn) == before
        columns = conn.execute("select column_name from duckdb_columns() where table_name = 'jobs'")
        assert "shop" not in {r[0] for r in columns.fetchall()}
