"""Dashboard views (`warehouse/schema/report_*.sql`) on a hand-built warehouse; numbers by hand."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from warehouse import dashboards, schema

A = "offer-a"
B = "offer-b"
NOW = datetime.now(UTC)


def _order(conn, oid, state, *, age_days, deposit, outstanding, lines, **extra):
    """Insert one order (+ line items); `lines` is [(offer_id, quantity)]; ages from now."""
    created = NOW - timedelta(days=age_days, hours=1)
    row = {
        "id": oid,
        "name": f"#{oid}",
        "state": state,
        "created_at": created,
        "financial_status": extra.get("financial_status", "paid"),
        "currency": "USD",
        "total_price": 100,
        "deposit": deposit,
        "total_outstanding": outstanding,
        "charged_at": extra.get("charged_at"),
        "offer_ids": sorted({o for o, _ in lines}),
        "missing_from_api": extra.get("missing_from_api", False),
        "raw": json.dumps({"id": oid}),
        "seen": NOW,
    }
    conn.execute(
        """insert into orders (id, name, state, created_at, financial_status, currency,
               total_price, deposit, total_outstanding, charged_at, offer_ids, missing_from_api,
               raw, first_seen_at, last_synced_at, last_changed_at)
           values ($id, $name, $state, $created_at, $financial_status, $currency, $total_price,
               $deposit, $total_outstanding, $charged_at, $offer_ids, $missing_from_api,
               $raw, $seen, $seen, $seen)""",
        row,
    )
    for i, (offer_id, qty) in enumerate(lines):
        conn.execute(
            "insert into order_line_items (order_id, line_index, offer_id, quantity)"
            " values (?, ?, ?, ?)",
            [oid, i, offer_id, qty],
        )


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        schema.apply(c)
        for oid, name in ((A, "Summer drop"), (B, "Winter drop")):
            c.execute(
                "insert into offers (id, name, raw, first_seen_at, last_synced_at,"
                " last_changed_at) values (?, ?, '{}', now(), now(), now())",
                [oid, name],
            )
        _order(c, 1, "awaiting_balance", age_days=3, deposit=20, outstanding=80, lines=[(A, 2)])
        _order(c, 2, "awaiting_balance", age_days=10, deposit=30, outstanding=70, lines=[(A, 1)])
        # placed: its deposit is not collected yet
        _order(c, 3, "placed", age_days=40, deposit=10, outstanding=50, lines=[(B, 1)])
        # multi-offer and releasable
        _order(
            c, 4, "balance_collected", age_days=100, deposit=25, outstanding=0,
            lines=[(A, 1), (B, 3)], charged_at=NOW - timedelta(days=2, hours=1),
        )  # fmt: skip
        # paid but partially refunded: open, not releasable
        _order(
            c, 5, "balance_collected", age_days=5, deposit=40, outstanding=0, lines=[(B, 1)],
            financial_status="partially_refunded",
        )  # fmt: skip
        _order(c, 6, "fulfilled", age_days=3, deposit=20, outstanding=0, lines=[(A, 1)])
        _order(c, 7, "cancelled", age_days=3, deposit=20, outstanding=80, lines=[(B, 1)])
        _order(
            c, 8, "awaiting_balance", age_days=3, deposit=20, outstanding=80, lines=[(A, 1)],
            missing_from_api=True,
        )  # fmt: skip
        _order(c, 9, "released", age_days=20, deposit=15, outstanding=0, lines=[(A, 1)])
        yield c


def test_backlog_by_offer_state_counts_open_orders_per_offer(conn):
    frame = dashboards.backlog_by_offer_state(conn)
    got = {
        (r.offer_name, r.state): (
            r.orders,
            r.units,
            float(r.deposit_collected),
            float(r.outstanding),
        )
        for r in frame.itertuples()
    }
    assert got == {
        ("Summer drop", "awaiting_balance"): (2, 3, 50.0, 150.0),
        ("Summer drop", "balance_collected"): (1, 1, 25.0, 0.0),
        ("Summer drop", "released"): (1, 1, 15.0, 0.0),
        ("Winter drop", "placed"): (1, 1, 0.0, 50.0),
        ("Winter drop", "balance_collected"): (2, 4, 65.0, 0.0),
    }


def test_key_figures_count_each_open_order_once(conn):
    figures = dashboards.key_figures(conn)
    assert figures["open_orders"] == 6  # 1, 2, 3, 4, 5, 9
    assert (figures["placed"], figures["awaiting_balance"]) == (1, 2)
    assert (figures["balance_collected"], figures["released"]) == (2, 1)
    assert figures["releasable_orders"] == 1  # order 4 (5 is partially refunded)
    assert figures["currencies"] == 1
    assert figures["oldest_open_age_days"] == 100
    assert not {"outstanding_balance", "deposit_collected"} & set(figures)  # per currency only


def test_money_by_currency_sums_open_orders_once_each(conn):
    frame = dashboards.money_by_currency(conn)
    assert frame.to_dict("records") == [
        {
            "shop": "default",
            "currency": "USD",
            "open_orders": 6,
            "awaiting_balance": 2,
            "releasable_orders": 1,
            "outstanding_balance": 200.0,  # 80 + 70 + 50
            "deposit_collected": 130.0,  # 20 + 30 + 25 + 40 + 15; placed excluded
            "releasable_total": 100.0,  # order 4
        }
    ]


def test_held_order_age_buckets_open_orders_by_days_since_created(conn):
    frame = dashboards.held_order_age(conn)
    got = {(r.age_bucket, r.state): (r.orders, float(r.outstanding)) for r in frame.itertuples()}
    assert got == {
        ("0-7d", "awaiting_balance"): (1, 80.0),
        ("0-7d", "balance_collected"): (1, 0.0),
        ("8-30d", "awaiting_balance"): (1, 70.0),
        ("8-30d", "released"): (1, 0.0),
        ("31-90d", "placed"): (1, 50.0),
        ("over 90d", "balance_collected"): (1, 0.0),
    }
    assert list(frame["bucket_order"]) == sorted(frame["bucket_order"])


def test_releasable_queue_lists_releasable_orders_with_age(conn):
    frame = dashboards.releasable_queue(conn)
    assert list(frame["order_id"]) == [4]
    row = frame.iloc[0]
    assert (row["age_days"], row["days_since_paid"], row["currency"]) == (100, 2, "USD")


HISTORY = [
    (1, "placed", "2025-07-01 10:00:00+00"),
    (1, "awaiting_balance", "2025-07-03 09:00:00+00"),
    (2, "awaiting_balance", "2025-07-01 10:00:00+00"),
    (2, "balance_collected", "2025-07-02 08:00:00+00"),
    (2, "released", "2025-07-02 20:00:00+00"),
    (2, "fulfilled", "2025-07-04 12:00:00+00"),
    # 23:30 in New York on July 1st is July 2nd in UTC: the series is in UTC days
    (3, "placed", "2025-07-01 23:30:00-05"),
]


@pytest.mark.parametrize("session_tz", ["UTC", "America/New_York"])
def test_backlog_over_time_is_an_end_of_day_as_of_series(conn, session_tz):
    conn.executemany(
        "insert into order_state_history (order_id, state, observed_at)"
        " values (?, ?, ?::timestamptz)",
        HISTORY,
    )
    conn.execute(f"set TimeZone = '{session_tz}'")  # a BI tool's session need not be UTC
    frame = dashboards.backlog_over_time(conn)
    series = {(r.day.date(), r.state): r.orders for r in frame.itertuples()}

    def day(d: int) -> dict[str, int]:
        return {s: series[(date(2025, 7, d), s)] for s in ("placed", "awaiting_balance",
                "balance_collected", "released", "fulfilled")}  # fmt: skip

    assert day(1) == dict(
        placed=1, awaiting_balance=1, balance_collected=0, released=0, fulfilled=0
    )
    # order 2 passed through balance_collected on the 2nd: only its end-of-day state counts
    assert day(2) == dict(
        placed=2, awaiting_balance=0, balance_collected=0, released=1, fulfilled=0
    )
    assert day(3) == dict(
        placed=1, awaiting_balance=1, balance_collected=0, released=1, fulfilled=0
    )
    assert day(4) == dict(
        placed=1, awaiting_balance=1, balance_collected=0, released=0, fulfilled=1
    )
    # no gaps: every day up to today, every state ever seen, states carried forward
    today = datetime.now(UTC).date()
    assert frame["day"].min().date() == date(2025, 7, 1) and frame["day"].max().date() == today
    assert len(frame) == ((today - date(2025, 7, 1)).days + 1) * 5
    assert series[(today, "placed")] == 1 and series[(today, "fulfilled")] == 1
    open_states = set(frame.loc[frame["open_state"], "state"])
    assert open_states == {"placed", "awaiting_balance", "balance_collected", "released"}


def test_backlog_over_time_is_empty_without_history(conn):
    assert dashboards.backlog_over_time(conn).empty


def test_dashboard_views_apply_on_a_fresh_file_in_schema_order(tmp_path):
    with duckdb.connect(str(tmp_path / "fresh.duckdb")) as c:
        schema.apply(c)
        schema.apply(c)  # idempotent
        data = dashboards.load(c)
    assert data.key_figures["open_orders"] == 0
    assert data.backlog_by_offer_state.empty and data.releasable_queue.empty


def test_read_refuses_names_outside_the_dashboard_views(conn):
    with pytest.raises(ValueError):
        dashboards.read(conn, "orders; drop table orders")


ACTIONS = [
    # key, order, action, status, forced, dry_run, planned_at (UTC)
    ("k1", 1, "release", "succeeded", False, False, "2025-07-01 10:00:00+00"),
    ("k2", 2, "release", "succeeded", True, False, "2025-07-01 11:00:00+00"),
    ("k3", 2, "release", "rejected", False, False, "2025-07-01 12:00:00+00"),
    ("k4", 3, "release", "planned", False, True, "2025-07-01 12:00:00+00"),
    ("k5", 3, "release", "planned", False, True, "2025-07-01 12:05:00+00"),
    ("k6", 3, "charge_balance", "failed", False, False, "2025-07-01 23:30:00-05"),  # July 2 UTC
]


def test_actions_per_day_counts_ledger_rows_by_day_action_status(conn):
    conn.executemany(
        "insert into order_actions (key, order_id, action, status, forced, dry_run,"
        " order_fingerprint, planned_at) values (?, ?, ?, ?, ?, ?, 'f', ?::timestamptz)",
        ACTIONS,
    )
    frame = dashboards.actions_per_day(conn)
    got = {
        (r.day.date().isoformat(), r.action, r.status, r.dry_run): (r.actions, r.orders, r.forced)
        for r in frame.itertuples()
    }
    assert got == {
        ("2025-07-01", "release", "succeeded", False): (2, 2, 1),
        ("2025-07-01", "release", "rejected", False): (1, 1, 0),
        ("2025-07-01", "release", "planned", True): (2, 1, 0),
        ("2025-07-02", "charge_balance", "failed", False): (1, 1, 0),
    }
