"""loads: set-based merges, counts, line items, state history, missing flags, rollback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from tests.warehouse.factory import OFFER_A, OFFER_B, offer, order
from warehouse.errors import LoadStateError
from warehouse.frames import OrderFrames, offer_frames, order_frames
from warehouse.loads import OffersLoad, OrdersLoad, open_orders, sync_state

T0 = datetime(2025, 8, 1, 12, 0, tzinfo=UTC)


def load_orders(
    conn: duckdb.DuckDBPyConnection,
    pages: list[list[dict[str, Any]]],
    *,
    run: str,
    mode: str = "full",
    at: datetime = T0,
    missing: bool = False,
    **finish: Any,
) -> OrdersLoad:
    with OrdersLoad(conn, run_id=run, mode=mode, synced_at=at, flush_rows=2) as load:
        for page in pages:
            load.add(order_frames(page))
        if missing:
            load.mark_missing()
        load.finish(**finish)
    return load


def one(conn: duckdb.DuckDBPyConnection, query: str, *params: Any) -> Any:
    row = conn.execute(query, list(params)).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def test_first_load_inserts_typed_rows(conn: duckdb.DuckDBPyConnection) -> None:
    load = load_orders(conn, [[order(1), order(2, state="placed")], [order(3)]], run="r1")
    assert (load.counts.inserted, load.counts.updated, load.counts.unchanged) == (3, 0, 0)
    assert load.counts.state_changes == 3
    total, deposit, created, tags = one(
        conn, "select total_price, deposit, created_at, tags from orders where id = 1"
    )
    assert (total, deposit, tags) == (Decimal("100.00"), Decimal("20.00"), ["preorder"])
    assert created == datetime(2025, 7, 1, 19, 15, 12, tzinfo=UTC)
    assert one(conn, "select typeof(total_price) from orders limit 1") == "DECIMAL(18,2)"
    assert one(conn, "select count(*) from order_line_items") == 3


def test_second_load_counts_updates_and_unchanged(conn: duckdb.DuckDBPyConnection) -> None:
    load_orders(conn, [[order(1), order(2)]], run="r1")
    later = T0 + timedelta(hours=1)
    load = load_orders(
        conn, [[order(1), order(2, name="#renamed")], [order(3)]], run="r2", at=later
    )
    assert (load.counts.inserted, load.counts.updated, load.counts.unchanged) == (1, 1, 1)
    synced, changed, first = one(
        conn, "select last_synced_at, last_changed_at, first_seen_at from orders where id = 1"
    )
    assert (synced, changed, first) == (later, T0, T0)  # unchanged still advances last_synced_at
    assert one(conn, "select name from orders where id = 2") == "#renamed"
    assert one(conn, "select last_changed_at from orders where id = 2") == later


def test_line_items_are_replaced_when_an_order_changes(conn: duckdb.DuckDBPyConnection) -> None:
    load_orders(conn, [[order(1, lines=[(OFFER_A, 1), (OFFER_B, 2), (OFFER_A, 1)])]], run="r1")
    load_orders(conn, [[order(1, lines=[(OFFER_B, 5)])]], run="r2", at=T0 + timedelta(hours=1))
    rows = conn.execute(
        "select line_index, offer_id, quantity from order_line_items where order_id = 1"
    ).fetchall()
    assert rows == [(0, OFFER_B, 5)]


def test_state_history_gets_a_row_only_on_change(conn: duckdb.DuckDBPyConnection) -> None:
    states = ["placed", "placed", "awaiting_balance", "awaiting_balance", "balance_collected"]
    for hour, state in enumerate(states):
        at = T0 + timedelta(hours=hour)
        load = load_orders(conn, [[order(1, state=state)]], run=f"r{hour}", at=at)
        assert load.counts.state_changes == (0 if hour in (1, 3) else 1)
    history = conn.execute(
        "select state, observed_at from order_state_history where order_id = 1 order by observed_at"
    ).fetchall()
    assert history == [
        ("placed", T0),
        ("awaiting_balance", T0 + timedelta(hours=2)),
        ("balance_collected", T0 + timedelta(hours=4)),
    ]


def test_same_order_in_two_chunks_of_one_load(conn: duckdb.DuckDBPyConnection) -> None:
    pages = [[order(1, state="placed")], [order(2)], [order(1, state="awaiting_balance")]]
    load = load_orders(conn, pages, run="r1")
    assert one(conn, "select state from orders where id = 1") == "awaiting_balance"
    assert one(conn, "select count(*) from order_state_history where order_id = 1") == 1
    assert load.counts.inserted == 2


def test_missing_orders_are_flagged_never_deleted_and_unflagged(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    load_orders(conn, [[order(1), order(2), order(3)]], run="r1", missing=True)
    later = T0 + timedelta(days=1)
    load = load_orders(conn, [[order(1), order(3)]], run="r2", at=later, missing=True)
    assert load.counts.missing == 1
    assert one(conn, "select count(*) from orders") == 3
    assert one(conn, "select missing_from_api, missing_since from orders where id = 2") == (
        True,
        later,
    )
    again = load_orders(conn, [[order(1), order(3)]], run="r3", at=later + timedelta(days=1))
    assert again.counts.missing == 0  # no mark_missing call: nothing newly flagged
    assert (
        one(conn, "select missing_since from orders where id = 2") == later
    )  # first sighting kept
    load_orders(conn, [[order(1), order(2), order(3)]], run="r4", missing=True)
    assert one(conn, "select missing_from_api, missing_since from orders where id = 2") == (
        False,
        None,
    )


def test_rejected_records_count_as_seen(conn: duckdb.DuckDBPyConnection) -> None:
    load_orders(conn, [[order(1), order(2)]], run="r1")
    bad = order(2, payments={"deposit": "??"})
    load = load_orders(conn, [[order(1), bad]], run="r2", missing=True)
    assert load.counts.rejected == 1 and load.counts.missing == 0
    run_id, stream, key, reason = one(
        conn, "select run_id, stream, record_key, reason from _rejects"
    )
    assert (run_id, stream, key) == ("r2", "orders", "2")
    assert "deposit" in reason
    assert one(conn, "select raw->>'$.payments.deposit' from _rejects") == "??"


def test_mark_missing_needs_a_full_walk(conn: duckdb.DuckDBPyConnection) -> None:
    with (
        pytest.raises(LoadStateError, match="full walk"),
        OrdersLoad(conn, run_id="r1", mode="incremental") as load,
    ):
        load.mark_missing()


def test_exception_rolls_back_and_records_a_failed_run(conn: duckdb.DuckDBPyConnection) -> None:
    load_orders(conn, [[order(1, state="placed")]], run="r1", total_count=1)
    before = conn.execute("select * from orders").fetchall()
    with (
        pytest.raises(RuntimeError, match="walk broke"),
        OrdersLoad(conn, run_id="r2", synced_at=T0 + timedelta(hours=1), flush_rows=1) as load,
    ):
        load.add(order_frames([order(1, state="released"), order(2)]))
        load.add(order_frames([order(3)]))
        raise RuntimeError("walk broke")
    assert conn.execute("select * from orders").fetchall() == before
    assert one(conn, "select count(*) from order_state_history") == 1
    assert one(conn, "select count(*) from order_line_items") == 1
    assert sync_state(conn, "orders")["last_run_id"] == "r1"  # type: ignore[index]
    outcome, message, inserted = one(
        conn, "select outcome, message, rows_inserted from sync_runs where run_id = 'r2'"
    )
    assert outcome == "failed" and "RuntimeError: walk broke" in message and inserted == 0


def test_leaving_without_finish_rolls_back(conn: duckdb.DuckDBPyConnection) -> None:
    with (
        pytest.raises(LoadStateError, match="without finish"),
        OrdersLoad(conn, run_id="r1") as load,
    ):
        load.add(order_frames([order(1)]))
    assert one(conn, "select count(*) from orders") == 0
    assert one(conn, "select outcome from sync_runs where run_id = 'r1'") == "failed"


def test_unknown_stats_key_fails_the_load(conn: duckdb.DuckDBPyConnection) -> None:
    with (
        pytest.raises(ValueError, match="unknown sync_runs stats"),
        OrdersLoad(conn, run_id="r1") as load,
    ):
        load.add(order_frames([order(1)]))
        load.finish(stats={"pagez": 1})
    assert one(conn, "select count(*) from orders") == 0


def test_sync_state_and_runs_are_written_with_the_data(conn: duckdb.DuckDBPyConnection) -> None:
    assert sync_state(conn, "orders") is None
    hwm = datetime(2025, 7, 1, 19, 15, 12, tzinfo=UTC)
    stats = {"pages": 2, "requests": 3, "retries": 1, "rate_limited": 1, "drift": True}
    load_orders(conn, [[order(1)]], run="r1", high_water_mark=hwm, total_count=1, stats=stats)
    load_orders(conn, [[order(2)]], run="r2", mode="incremental", at=T0 + timedelta(hours=1))
    state = sync_state(conn, "orders")
    assert state is not None
    assert state["high_water_mark"] == hwm  # None kept the previous mark
    assert state["last_full_at"] == T0
    assert state["last_incremental_at"] == T0 + timedelta(hours=1)
    assert (state["last_total_count"], state["last_run_id"]) == (1, "r2")
    row = one(
        conn,
        "select mode, pages, requests, retries, rate_limited, drift, rows_inserted, outcome"
        " from sync_runs where run_id = 'r1'",
    )
    assert row == ("full", 2, 3, 1, 1, True, 1, "succeeded")


def test_open_orders_lists_non_terminal_present_orders(conn: duckdb.DuckDBPyConnection) -> None:
    recs = [order(i, state=s) for i, s in enumerate(["placed", "released", "fulfilled"], 1)]
    load_orders(conn, [recs + [order(4, state="cancelled"), order(5)]], run="r1")
    load_orders(conn, [recs], run="r2", missing=True)  # order 5 goes missing
    frame = open_orders(conn)
    assert list(frame.columns) == ["id", "created_at", "state"]
    assert sorted(frame["id"]) == [1, 2]


def test_offers_load_merges_replaces_variants_and_flags_missing(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    with OffersLoad(conn, run_id="r1", synced_at=T0) as load:
        load.add(offer_frames([offer(OFFER_A, variants=[1, 2]), offer(OFFER_B, variants=[3])]))
        load.mark_missing()
        load.finish(total_count=2)
    assert load.counts.inserted == 2
    later = T0 + timedelta(hours=1)
    with OffersLoad(conn, run_id="r2", synced_at=later) as load:
        load.add(offer_frames([offer(OFFER_A, variants=[2, 4], name="Renamed")]))
        load.mark_missing()
        load.finish()
    assert (load.counts.updated, load.counts.missing) == (1, 1)
    variants = conn.execute("select offer_id, shopify_variant_id from offer_variants order by all")
    assert variants.fetchall() == [(OFFER_A, 2), (OFFER_A, 4), (OFFER_B, 3)]
    assert one(conn, "select missing_since from offers where id = ?", OFFER_B) == later
    assert one(conn, "select name, variant_count from offers where id = ?", OFFER_A) == (
        "Renamed",
        2,
    )
    assert one(conn, "select billing_checkout_charge_percentage from offers limit 1") == Decimal(
        "20.0000"
    )


def test_load_is_single_use(conn: duckdb.DuckDBPyConnection) -> None:
    load = load_orders(conn, [[order(1)]], run="r1")
    with pytest.raises(LoadStateError):
        load.add(order_frames([order(2)]))


def test_a_failing_merge_surfaces_the_duckdb_error(conn: duckdb.DuckDBPyConnection) -> None:
    load_orders(conn, [[order(1)]], run="r1")
    frames = order_frames([order(2)])
    broken = OrderFrames(frames.orders.drop(columns=["raw"]), frames.line_items, [])
    with pytest.raises(duckdb.BinderException), OrdersLoad(conn, run_id="r2", flush_rows=1) as load:
        load.add(broken)
    assert one(conn, "select count(*) from orders") == 1
    assert one(conn, "select outcome from sync_runs where run_id = 'r2'") == "failed"


def test_mark_missing_ids_flags_only_those_orders(conn: duckdb.DuckDBPyConnection) -> None:
    load_orders(conn, [[order(1), order(2), order(3)]], run="r1")
    later = T0 + timedelta(hours=1)
    with OrdersLoad(conn, run_id="r2", mode="incremental", synced_at=later) as load:
        load.add(order_frames([order(1, state="released")]))
        assert load.mark_missing_ids([2, 99]) == 1  # unknown ids are ignored
        load.finish()
    assert load.counts.missing == 1
    assert one(conn, "select count(*) from orders") == 3  # never deleted
    flags = conn.execute("select id, missing_from_api, missing_since from orders order by id")
    assert flags.fetchall() == [(1, False, None), (2, True, later), (3, False, None)]
    assert one(conn, "select rows_missing from sync_runs where run_id = 'r2'") == 1
    again_at = later + timedelta(hours=1)
    with OrdersLoad(conn, run_id="r3", mode="incremental", synced_at=again_at) as again:
        assert again.mark_missing_ids([2]) == 0  # already flagged: first missing_since kept
        again.finish()
    assert one(conn, "select missing_since from orders where id = 2") == later
    assert sorted(open_orders(conn)["id"]) == [1, 3]  # a missing order is not re-read
