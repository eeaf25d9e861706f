"""Keep the cyclic garbage collector off the objects a process holds from its start.

A load allocates a few dozen containers per record (the decoded page, row tuples, lists), so
CPython runs full collections again and again, and each one rescans every tracked object alive:
in a sync process that is ~160,000 objects of pandas, DuckDB, httpx and Dagster modules before
the first record. `settle()` moves those into the permanent generation once per process (after
a collection, so no cyclic garbage is kept): the full collections of a 200,000-order load then
cost 0.9 CPU-s instead of 2.2 (1.0 instead of 3.4 with Dagster imported; bench/warehouse_load.py).
Reference counting still frees them; only their cycles, should they ever become garbage, are
never collected: so it runs once per process, not once per load.

It also raises the youngest generation's threshold to YOUNG allocations (never lowers it): at
CPython's 700, a decoded page of orders (~50 containers each) triggers a young collection every
~14 records, and every page still waiting to be framed is promoted toward the old generation,
which makes full collections come often and rescan every page in flight. One process syncing 20
shops at once spent ~4.8 CPU-s of 24 in the collector that way (bench/whole_process.py's
deployment). Higher is not better: at 5,000 and above, a 200,000-order load's peak resident set
grows from ~370 MB to 415-430 MB (more pages alive between collections leave more of Python's
heap allocated), past the 400 MB goal; 2,000 keeps ~370 MB and the deployment's gain
(bench/warehouse_load.py, bench/whole_process.py).
"""

from __future__ import annotations

import gc
import threading

#: The youngest generation's threshold while this process loads (CPython's default is 700).
YOUNG = 2_000

_LOCK = threading.Lock()
_settled = False


def settle() -> bool:
    """Collect, then freeze the objects alive now and raise the young threshold to YOUNG, once
    per process; True when it did so now."""
    global _settled
    with _LOCK:
        if _settled:
            return False
        _settled = True
        gc.collect()
        gc.freeze()
        young, *older = gc.get_threshold()
        if 0 < young < YOUNG:  # 0: the collector is off by the caller's choice; keep it so
            gc.set_threshold(YOUNG, *older)
        return True
