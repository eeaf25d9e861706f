"""Big records (~200 KB each) stage and merge like small ones: no OutOfMemoryException."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.warehouse.factory import order
from warehouse.frames import order_frames
from warehouse.loads import OrdersLoad

NOTE = 200_000  # bytes of padding per order: ~200 KB of raw JSON each


def big_page(first: int, size: int = 50) -> list[dict]:
    """A ~10 MB page: `size` orders of ~200 KB each (a long note and some line items)."""
    lines = [(None, 1)] * 20
    return [order(i, lines=lines, note=f"{i}:" + "n" * NOTE) for i in range(first, first + size)]


def test_forty_pages_of_ten_megabytes_load_and_commit(conn: duckdb.DuckDBPyConnection) -> None:
    with OrdersLoad(conn, run_id="big") as load:
        for page in range(40):  # 2,000 orders, ~400 MB of raw JSON: issue 9's failing load
            load.add(order_frames(big_page(1 + 50 * page)))
        load.mark_missing()
        counts = load.finish(total_count=2000)
    assert counts.inserted == 2000 and counts.rejected == 0
    total, smallest, ids = conn.execute(
        "select count(*), min(length(raw::varchar)), count(distinct id) from orders"
    ).fetchone()
    assert total == ids == 2000 and smallest > NOTE
    assert conn.execute("select count(*) from order_line_items").fetchone() == (40_000,)
    note = "select json_extract_string(raw, '$.note')[:6] from orders where id = 1999"
    assert conn.execute(note).fetchone() == ("1999:n",)
    assert conn.execute("select outcome from sync_runs").fetchone() == ("succeeded",)


def test_queued_raw_bytes_flush_the_buffer(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    root = tmp_path / ".stage" / "warehouse.duckdb" / "default" / "orders" / "r1"
    with OrdersLoad(conn, run_id="r1", flush_bytes=3 * NOTE) as load:
        for first in (1, 3, 5, 7):
            load.add(order_frames(big_page(first, size=2)))
        staged = sorted(p.name for p in root.glob("orders-*.parquet"))
        load.finish()
    # 2 orders queued (~400 KB) stay; 4 (~800 KB) pass 600 KB and go to the stage
    assert staged == ["orders-000001.parquet", "orders-000002.parquet"]
    assert conn.execute("select count(*) from orders").fetchone() == (8,)
