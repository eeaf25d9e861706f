"""warehouse.heap: a load freezes the objects alive before it, once per process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# A fresh interpreter: the test process itself was settled by the first load of the suite.
ENTER_TWO_LOADS = """
import gc, sys
import duckdb
from warehouse import heap, schema
from warehouse.loads import OrdersLoad
from tests.warehouse.factory import order
from warehouse.frames import order_frames

conn = duckdb.connect(sys.argv[1])
schema.apply(conn)
assert gc.get_freeze_count() == 0, "frozen before any load"
with OrdersLoad(conn, run_id="r1") as load:
    frozen = gc.get_freeze_count()
    load.add(order_frames([order(1)]))
    load.finish()
with OrdersLoad(conn, run_id="r2") as load:
    again = gc.get_freeze_count()
    load.add(order_frames([order(2)]))
    load.finish()
print(frozen, again, heap.settle(), conn.execute("select count(*) from orders").fetchone()[0])
"""


def test_the_first_load_freezes_the_startup_objects_and_later_ones_do_not(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", ENTER_TWO_LOADS, str(tmp_path / "warehouse.duckdb")],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    frozen, again, settled_now, orders = child.stdout.split()
    assert int(frozen) > 10_000  # pandas, DuckDB, ... imported before the first load
    # The second load froze nothing more (the first load's frames stay collectable); frozen
    # objects that died since were freed by reference counting, so the count may only drop.
    assert int(again) <= int(frozen)
    assert settled_now == "False"
    assert orders == "2"
