"""The order_actions ledger on a real DuckDB file: claims, keys, attempts, settlement."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

import warehouse.schema
from tests.warehouse.factory import order
from warehouse import ledger, loads
from warehouse.frames import order_frames

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _load(conn: duckdb.DuckDBPyConnection, records: list[dict], run_id: str = "r1") -> None:
    with loads.OrdersLoad(conn, run_id=run_id, mode="incremental") as load:
        load.add(order_frames(records))
        load.finish()


@pytest.fixture
def conn(tmp_path):
    path = tmp_path / "wh.duckdb"
    c = duckdb.connect(str(path))
    warehouse.schema.apply(c)
    _load(
        c,
        [
            order(1, state="balance_collected", created_at="2025-07-01T00:00:00Z"),
            order(2, state="balance_collected", created_at="2025-07-02T00:00:00Z"),
            order(3, state="awaiting_balance"),
            order(4, state="fulfilled"),
        ],
    )
    yield c
    c.close()


def test_releasable_candidates_are_oldest_first_with_a_fingerprint(conn):
    found = ledger.releasable(conn)
    assert [c.order_id for c in found] == [1, 2]
    assert all(len(c.fingerprint) == 32 for c in found)
    assert ledger.open_orders_count(conn) == 3


def test_keys_are_deterministic_and_depend_on_every_part():
    base = ledger.action_key("release", 1, "fp", False, 0)
    assert base == ledger.action_key("release", 1, "fp", False, 0)
    others = {
        ledger.action_key("charge_balance", 1, "fp", False, 0),
        ledger.action_key("release", 2, "fp", False, 0),
        ledger.action_key("release", 1, "fp2", False, 0),
        ledger.action_key("release", 1, "fp", True, 0),
        ledger.action_key("release", 1, "fp", False, 1),
    }
    assert base not in others and len(others) == 5


def test_a_claimed_key_is_owned_once(conn):
    (item, _) = ledger.next_keys(conn, "release", ledger.releasable(conn))
    assert ledger.claim(conn, item, run_id="a") == item.key
    assert ledger.claim(conn, item, run_id="b") is None
    assert [c.order_id for c in ledger.next_keys(conn, "release", ledger.releasable(conn))] == [2]
    assert ledger.rows(conn, order_id=1)[0]["dagster_run_id"] == "a"


def test_dry_run_rows_never_block_a_real_run(conn):
    todo = ledger.next_keys(conn, "release", ledger.releasable(conn))
    for item in todo:
        assert ledger.claim(conn, item, dry_run=True).startswith("dry-")
        assert ledger.claim(conn, item, dry_run=True) is not None  # repeatable
    again = ledger.next_keys(conn, "release", ledger.releasable(conn))
    assert again == todo
    assert ledger.mark_sent(conn, [r["key"] for r in ledger.rows(conn)]) == set()


def test_a_rejection_blocks_until_the_order_changes(conn):
    (item, _) = ledger.next_keys(conn, "release", ledger.releasable(conn))
    ledger.claim(conn, item)
    assert ledger.mark_sent(conn, [item.key]) == {item.key}
    ledger.settle(conn, item.key, "rejected", http_status=409, hint="Charge the balance first")
    assert [c.order_id for c in ledger.next_keys(conn, "release", ledger.releasable(conn))] == [2]
    # A change a release does not depend on (tags, updated_at) keeps the same key: still blocked.
    _load(conn, [order(1, state="balance_collected", tags=["vip"])], run_id="r2")
    assert [c.order_id for c in ledger.next_keys(conn, "release", ledger.releasable(conn))] == [2]
    # A later sync shows a release field changed (the hold): new fingerprint, new key, eligible.
    _load(conn, [order(1, state="balance_collected", fulfillment_status="scheduled")], "r3")
    again = ledger.next_keys(conn, "release", ledger.releasable(conn))
    assert [c.order_id for c in again] == [1, 2]
    assert again[0].key != item.key and again[0].attempt == 0
    row = ledger.rows(conn, order_id=1)[0]
    assert (row["status"], row["http_status"], row["hint"]) == (
        "rejected",
        409,
        "Charge the balance first",
    )


def test_proved_failures_allow_a_bounded_number_of_attempts(conn):
    cands = ledger.releasable(conn)[:1]
    seen = []
    for expected in (0, 1):
        (item,) = ledger.next_keys(conn, "release", cands, max_attempts=2)
        assert item.attempt == expected
        seen.append(item.key)
        ledger.claim(conn, item)
        ledger.settle(conn, item.key, "failed", note="not applied (read back)")
    assert ledger.next_keys(conn, "release", cands, max_attempts=2) == []
    assert len(set(seen)) == 2


def test_forced_keys_are_separate_from_plain_ones(conn):
    cands = ledger.releasable(conn)[:1]
    (plain,) = ledger.next_keys(conn, "release", cands)
    ledger.claim(conn, plain)
    ledger.settle(conn, plain.key, "rejected", http_status=409)
    (forced,) = ledger.next_keys(conn, "release", cands, forced=True)
    assert forced.forced and forced.key != plain.key
    ledger.claim(conn, forced, force_reason="customer asked")
    row = ledger.rows(conn, order_id=1)[-1]
    assert (row["forced"], row["force_reason"]) == (True, "customer asked")


def test_unsettled_returns_unknown_rows_and_stale_sent_or_planned_rows(conn):
    a, b = ledger.next_keys(conn, "release", ledger.releasable(conn))
    ledger.claim(conn, a, now=T0)
    ledger.mark_sent(conn, [a.key], now=T0)
    ledger.claim(conn, b, now=T0)
    fresh = ledger.unsettled(conn, now=T0 + timedelta(minutes=1))
    assert fresh == []  # possibly in flight in another process
    stale = ledger.unsettled(conn, now=T0 + timedelta(minutes=10))
    assert [(r.order_id, r.status) for r in stale] == [(1, "sent"), (2, "planned")]
    ledger.settle(conn, a.key, "unknown", note="read-back failed")
    ledger.settle(conn, b.key, "failed", note="never sent")
    later = ledger.unsettled(conn, now=T0 + timedelta(minutes=1))
    assert [(r.order_id, r.status) for r in later] == [(1, "unknown")]


def test_settle_refuses_an_open_status(conn):
    with pytest.raises(ValueError, match="cannot settle"):
        ledger.settle(conn, "k", "sent")


def test_awaiting_balance_scopes_by_offer(conn):
    assert [c.order_id for c in ledger.awaiting_balance(conn)] == [3]
    assert ledger.awaiting_balance(conn, offer_id="no-such-offer") == []
    assert [c.order_id for c in ledger.orders_by_id(conn, [4, 3, 99])] == [3, 4]


def test_two_threads_racing_for_one_key_claim_it_once(tmp_path, conn):
    todo = ledger.next_keys(conn, "release", ledger.releasable(conn))
    wins: list[str] = []
    barrier = threading.Barrier(8)

    def race() -> None:
        local = conn.cursor()
        barrier.wait()
        for item in todo:
            got = ledger.claim(conn=local, item=item)
            if got:
                wins.append(got)
        local.close()

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == sorted(i.key for i in todo)


def test_one_key_in_two_shops_is_two_rows_each_written_on_its_own(conn):
    _load_shop(conn, "eu")  # the same orders under another shop: the same fingerprints and keys
    (item, _) = ledger.next_keys(conn, "release", ledger.releasable(conn))
    (twin, _) = ledger.next_keys(conn, "release", ledger.releasable(conn, "eu"), shop="eu")
    assert twin.key == item.key
    assert ledger.claim(conn, item, now=T0) == item.key
    assert ledger.claim(conn, twin, now=T0, shop="eu") == item.key  # not blocked by default's
    assert ledger.claim(conn, twin, shop="eu") is None  # but owned once in its shop
    assert ledger.mark_sent(conn, [item.key], now=T0, shop="eu", bulk=True) == {item.key}
    ledger.attach_job(conn, [item.key], "job-eu", shop="eu")
    ledger.settle(conn, item.key, "unknown", note="lost", shop="eu")
    (mine,) = ledger.rows(conn, order_id=1)
    (theirs,) = ledger.rows(conn, order_id=1, shop="eu")
    assert (mine["shop"], mine["status"], mine["job_id"]) == ("default", "planned", None)
    assert (theirs["shop"], theirs["status"], theirs["job_id"]) == ("eu", "unknown", "job-eu")
    assert len(ledger.rows(conn, order_id=1, shop=None)) == 2
    later = T0 + timedelta(minutes=10)
    assert [(r.key, r.status) for r in ledger.unsettled(conn, now=later)] == [(item.key, "planned")]
    assert [(r.status, r.bulk, r.job_id) for r in ledger.unsettled(conn, shop="eu")] == [
        ("unknown", True, "job-eu")
    ]
    ledger.unclaim(conn, item.key, shop="eu")  # eu's row was sent: it stays
    ledger.unclaim(conn, item.key)  # default's was only planned: given back
    assert ledger.rows(conn, order_id=1) == []
    assert [r["status"] for r in ledger.rows(conn, order_id=1, shop="eu")] == ["unknown"]


def _load_shop(conn: duckdb.DuckDBPyConnection, shop: str) -> None:
    """The fixture's orders again, as `shop`'s."""
    conn.execute(
        "insert into orders select * replace ($shop as shop) from orders where shop = 'default'",
        {"shop": shop},
    )
