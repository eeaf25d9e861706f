"""Two shops in one warehouse: the same order id stays two rows, and one shop's sync never
flags, reads or cursors another shop's rows."""

from __future__ import annotations

from pathlib import Path

import duckdb

import warehouse.schema
from preorders import actions
from preorders.sync import sync_offers, sync_orders
from sandbox import DEFAULT_API_KEY, FakeClock, SandboxConfig, Shop, mock_transport
from stoq import StoqClient
from warehouse import checks, ledger, loads, status

BASE_URL = "http://sandbox.test/api/v2/external"


def _sync(shop: Shop, conn: duckdb.DuckDBPyConnection, name: str, run_id: str, mode: str) -> None:
    clock = FakeClock()
    with StoqClient(
        DEFAULT_API_KEY, BASE_URL, transport=mock_transport(shop),
        sleep=clock.sleep, clock=clock.monotonic, wall_clock=clock.time,
    ) as client:  # fmt: skip
        sync_offers(client, conn, run_id=run_id, shop=name)
        sync_orders(client, conn, run_id=run_id, mode=mode, shop=name)


def _shop(seed: int, orders: int) -> Shop:
    return Shop(SandboxConfig(orders=orders, seed=seed, rate_limit_points=1_000_000), FakeClock())


def test_two_shops_with_the_same_ids_stay_apart(tmp_path: Path) -> None:
    first, other = _shop(7, 30), _shop(8, 12)
    ids = {o["id"] for o in first.truth_orders()}
    assert not ids & {o["id"] for o in other.truth_orders()}
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        warehouse.schema.apply(conn)
        _sync(first, conn, "a", "a-1", "full")
        _sync(first, conn, "b", "b-1", "full")  # the same ids under another shop
        rows = conn.execute("select shop, count(*), count(distinct id) from orders group by 1")
        assert sorted(rows.fetchall()) == [("a", 30, 30), ("b", 30, 30)]
        items = conn.execute("select shop, count(*) from order_line_items group by 1 order by 1")
        assert items.fetchall()[0][1] > 0
        # shop b's catalogue is now another shop's: a full walk flags b's old orders, never a's
        _sync(other, conn, "b", "b-2", "full")
        missing = conn.execute(
            "select shop, count(*) filter (where missing_from_api), count(*) from orders group by 1"
        ).fetchall()
        assert sorted(missing) == [("a", 0, 30), ("b", 30, 42)]
        offers = conn.execute(
            "select shop, count(*) filter (where missing_since is not null) from offers group by 1"
        ).fetchall()
        assert dict(offers)["a"] == 0
        # each shop's cursor, runs and open orders are its own
        states = conn.execute("select shop, stream, last_run_id from sync_state order by 1, 2")
        assert states.fetchall() == [
            ("a", "offers", "a-1"), ("a", "orders", "a-1"),
            ("b", "offers", "b-2"), ("b", "orders", "b-2"),
        ]  # fmt: skip
        assert loads.sync_state(conn, "orders", "a")["last_run_id"] == "a-1"  # type: ignore[index]
        assert loads.sync_state(conn, "orders") is None  # no shop `default` here
        runs = conn.execute("select shop, count(*) from sync_runs group by 1 order by 1")
        assert runs.fetchall() == [("a", 2), ("b", 4)]
        assert set(loads.open_orders(conn, "b")["id"]) <= {o["id"] for o in other.truth_orders()}
        # dashboards group by shop
        backlog = conn.execute("select distinct shop from preorder_backlog order by 1").fetchall()
        assert backlog == [("a",), ("b",)]
        # an incremental run of shop a plans from a's rows only and flags nothing of b's
        _sync(first, conn, "a", "a-2", "incremental")
        after = conn.execute(
            "select shop, count(*) filter (where missing_from_api) from orders group by 1"
        ).fetchall()
        assert sorted(after) == [("a", 0), ("b", 30)]


def test_ledger_status_and_checks_read_one_shop(tmp_path: Path) -> None:
    first, other = _shop(7, 30), _shop(8, 12)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        warehouse.schema.apply(conn)
        _sync(first, conn, "a", "a-1", "full")
        _sync(other, conn, "b", "b-1", "full")
        ids = {
            name: {o["id"] for o in shop.truth_orders()}
            for name, shop in (("a", first), ("b", other))
        }
        for name in ("a", "b"):
            releasable = {c.order_id for c in ledger.releasable(conn, name)}
            awaiting = {c.order_id for c in ledger.awaiting_balance(conn, shop=name)}
            assert releasable | awaiting <= ids[name]
            assert status.releasable_count(conn, name) == len(releasable)
            named = ledger.orders_by_id(conn, ids["a"] | ids["b"], shop=name)
            assert {c.order_id for c in named} == ids[name]
            assert len(ledger.known_created(conn, name)) == len(ids[name])
            live, total = checks.live_orders_vs_api(conn, name)
            assert live == total == len(ids[name])
            streams = {s["stream"]: s for s in status.streams(conn, name)}
            assert streams["orders"]["table_rows"] == len(ids[name])
            assert streams["orders"]["run_id"] == f"{name}-1"
        assert ledger.releasable(conn) == []  # today's callers read shop `default`
        assert status.releasable_count(conn) == 0
        total_releasable = conn.execute("select count(*) from releasable_orders").fetchone()
        assert total_releasable == (
            status.releasable_count(conn, "a") + status.releasable_count(conn, "b"),
        )


def test_a_release_plan_is_one_shops_and_its_ledger_blocks_only_that_shop(tmp_path: Path) -> None:
    first, other = _shop(7, 30), _shop(8, 12)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        warehouse.schema.apply(conn)
        _sync(first, conn, "a", "a-1", "full")
        _sync(first, conn, "b", "b-1", "full")  # the same orders, another shop
        _sync(other, conn, "c", "c-1", "full")
        plans = {s: actions.plan_release(conn, shop=s) for s in ("a", "b", "c")}
        ids = {s: [p.order_id for p in plan] for s, plan in plans.items()}
        assert ids["a"] and ids["a"] == ids["b"]
        assert not set(ids["c"]) & set(ids["a"])
        assert set(ids["c"]) <= {o["id"] for o in other.truth_orders()}
        assert actions.plan_release(conn) == []  # shop `default` holds nothing
        # an open ledger row of shop a blocks that order in a only
        held = plans["a"][0]
        conn.execute(
            "insert into order_actions (shop, key, order_id, action, status, order_fingerprint,"
            " planned_at) values ('a', ?, ?, 'release', 'sent', ?, now())",
            [held.key, held.order_id, held.fingerprint],
        )
        assert held.order_id not in [p.order_id for p in actions.plan_release(conn, shop="a")]
        assert held.order_id in [p.order_id for p in actions.plan_release(conn, shop="b")]
        charges = {p.order_id for p in actions.plan_charges(conn, shop="c")}
        assert charges <= {o["id"] for o in other.truth_orders()}
