"""warehouse.tables: a table's qualified name and columns from DuckDB's catalog."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import warehouse.schema
from warehouse import tables


def test_describe_reads_the_catalog_of_the_open_file(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "shop.duckdb")) as conn:
        warehouse.schema.apply(conn)
        shape = tables.describe(conn, "offer_variants")
        described = conn.execute("describe order_line_items").fetchall()
        items = tables.describe(conn, "order_line_items")
    assert shape.name == "shop.main.offer_variants"
    assert shape.columns == (
        tables.Column("shop", "VARCHAR", nullable=False, in_key=True),
        tables.Column("offer_id", "VARCHAR", nullable=False, in_key=True),
        tables.Column("shopify_variant_id", "BIGINT", nullable=False, in_key=True),
    )
    assert shape.key == ("shop", "offer_id", "shopify_variant_id")
    assert [(c.name, c.type, c.nullable) for c in items.columns] == [
        (name, kind, null == "YES") for name, kind, null, *_ in described
    ]
    assert items.key == ("shop", "order_id", "line_index")


def test_describe_takes_only_the_warehouses_own_tables(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        warehouse.schema.apply(conn)
        with pytest.raises(ValueError, match="unknown table"):
            tables.describe(conn, "orders; drop table orders")
        conn.execute("drop table offer_variants")
        with pytest.raises(LookupError):
            tables.describe(conn, "offer_variants")
