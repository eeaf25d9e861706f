"""warehouse.heap: a load freezes the objects alive before it and raises the young threshold,
once per process; a threshold set higher, or a collector turned off, is kept."""

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
assert gc.get_threshold()[0] == 700, "CPython's default"
with OrdersLoad(conn, run_id="r1") as load:
    frozen = gc.get_freeze_count()
    assert gc.get_threshold()[0] == heap.YOUNG, gc.get_threshold()
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


KEEP_THRESHOLD = """
import gc, sys
from warehouse import heap
gc.set_threshold(int(sys.argv[1]), 5, 5)
heap.settle()
print(*gc.get_threshold())
"""


def test_a_higher_young_threshold_or_a_collector_turned_off_is_kept() -> None:
    for given, kept in (("50000", "50000 5 5"), ("0", "0 5 5"), ("700", "2000 5 5")):
        child = subprocess.run(
            [sys.executable, "-c", KEEP_THRESHOLD, given], capture_output=True, text=True,
            timeout=120, cwd=Path(__file__).parents[2],
        )  # fmt: skip
        assert child.returncode == 0, child.stderr
        assert child.stdout.strip() == kept
