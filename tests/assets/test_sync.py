"""Plain-Python sync through mock_transport: full and incremental runs converge to the truth."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from preorders.sync import SyncSettings, choose_mode, sync_orders
from tests.assets.helpers import CHAOS, client_for, make_shop, mature, run_sync
from tests.assets.truth import assert_matches_truth
from warehouse import checks, loads

MUTATIONS = [
    {"new_orders": 25, "pay_balances": 12, "release": 6, "cancel": 4, "refund": 3, "fulfill": 5},
    {"new_orders": 7, "pay_balances": 3, "release": 9, "fulfill": 8},
    {"cancel": 6, "refund": 6, "new_orders": 40},
]


def check(db: Path, shop, *, stale_terminal_ok: bool = False) -> int:
    with duckdb.connect(str(db)) as conn:
        stale = assert_matches_truth(conn, shop, stale_terminal_ok=stale_terminal_ok)
        assert checks.unknown_states(conn) == {}
        live, total = checks.live_orders_vs_api(conn)
        assert live == total == len(shop.truth_orders())
    return stale


@pytest.mark.parametrize("mode", ["full", "incremental", "auto"])
def test_runs_with_chaos_and_drift_converge_to_truth(tmp_path: Path, mode: str) -> None:
    shop = make_shop(orders=700, chaos=CHAOS)
    mature(shop)
    db = tmp_path / "w.duckdb"
    reports = run_sync(shop, db, mode, run_id="r0")
    assert reports["orders"].mode == "full"  # the first run is always a full walk
    check(db, shop)
    retried = 0
    for i, mutation in enumerate(MUTATIONS, start=1):
        shop.mutate(**mutation)
        reports = run_sync(shop, db, mode, run_id=f"r{i}")
        assert reports["orders"].mode == ("full" if mode == "full" else "incremental")
        assert reports["orders"].complete
        retried += reports["orders"].retries + reports["offers"].retries
        check(db, shop, stale_terminal_ok=mode != "full")
    assert retried > 0  # the chaos really bit
    # The daily reconcile (a full walk) brings back terminal orders that changed again.
    run_sync(shop, db, "full", run_id="reconcile")
    check(db, shop)


def test_incremental_uses_far_fewer_requests_than_full(tmp_path: Path) -> None:
    shop = make_shop(orders=5000)
    mature(shop, open_days=14)
    full_db, incr_db = tmp_path / "full.duckdb", tmp_path / "incr.duckdb"
    run_sync(shop, full_db, "full", run_id="seed-full")
    run_sync(shop, incr_db, "full", run_id="seed-incr")
    shop.mutate(new_orders=30, pay_balances=15, release=8, cancel=4, refund=3, fulfill=6)
    full = run_sync(shop, full_db, "full", run_id="full")["orders"]
    incr = run_sync(shop, incr_db, "incremental", run_id="incr")["orders"]
    print(
        f"\n5000 orders, after a few changes: full walk {full.requests} requests, "
        f"incremental {incr.requests} requests ({incr.pages} pages + {incr.singles} single reads; "
        f"planned {incr.planned_requests})"
    )
    assert incr.requests * 3 <= full.requests
    assert incr.singles > 0  # the old stragglers were read one by one
    check(full_db, shop)
    check(incr_db, shop, stale_terminal_ok=True)


def test_high_water_mark_waits_for_a_complete_walk(tmp_path: Path) -> None:
    shop = make_shop(orders=300, order_sort="oldest_first")
    db = tmp_path / "w.duckdb"
    run_sync(shop, db, "full")
    # Orders keep arriving faster than a walk (or a page) can account for: never complete.
    # Oldest first, the count's own page never shows the orders that arrived with it.
    shop.set_chaos(new_orders_during_walk=30, drift_every=1)
    with client_for(shop) as client, duckdb.connect(str(db)) as conn:
        before = loads.sync_state(conn, "orders")
        report = sync_orders(client, conn, run_id="busy", mode="full")
        after = loads.sync_state(conn, "orders")
        missing = conn.execute("select count(*) from orders where missing_from_api").fetchone()[0]
    assert not report.complete and report.walks >= SyncSettings().max_walks
    assert after["high_water_mark"] == before["high_water_mark"]
    assert missing == 0  # an incomplete walk flags nothing


def test_choose_mode() -> None:
    from datetime import UTC, datetime, timedelta

    now, s = datetime(2026, 3, 1, tzinfo=UTC), SyncSettings()
    recent = {"high_water_mark": now, "last_full_at": now - timedelta(hours=2)}
    stale = {"high_water_mark": now, "last_full_at": now - timedelta(days=2)}
    assert choose_mode("incremental", None, now, s) == "full"
    assert choose_mode("auto", recent, now, s) == "incremental"
    assert choose_mode("auto", stale, now, s) == "full"
    assert choose_mode("full", recent, now, s) == "full"
    with pytest.raises(ValueError):
        choose_mode("sometimes", recent, now, s)


@pytest.mark.slow
def test_100k_orders_full_then_incremental(tmp_path: Path) -> None:
    shop = make_shop(orders=100_000, rate_limit_points=10_000_000)
    mature(shop, open_days=10, keep_old_open=20)
    db = tmp_path / "big.duckdb"
    full = run_sync(shop, db, "full", run_id="big-full")["orders"]
    shop.mutate(new_orders=100, pay_balances=50, release=20, cancel=10, fulfill=20)
    incr = run_sync(shop, db, "incremental", run_id="big-incr")["orders"]
    print(f"\n100k orders: full {full.requests} requests {full.duration_s}s, "
          f"incremental {incr.requests} requests {incr.duration_s}s")  # fmt: skip
    assert full.records >= 100_000 and full.complete
    assert incr.requests * 4 <= full.requests
    check(db, shop)
