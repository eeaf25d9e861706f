"""Money per currency: on a warehouse with orders in USD and EUR, no view adds the two."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from warehouse import checks, dashboards, schema

A, B = "offer-a", "offer-b"
NOW = datetime.now(UTC)


def _order(conn, oid, state, currency, *, age_days, total, deposit, outstanding, offers, **extra):
    """One order (+ one line item of 1 unit per offer), created `age_days` ago."""
    conn.execute(
        """insert into orders (id, name, state, created_at, financial_status, currency,
               total_price, deposit, total_outstanding, offer_ids, raw, first_seen_at,
               last_synced_at, last_changed_at)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), now(), now())""",
        [
            oid, f"#{oid}", state, NOW - timedelta(days=age_days, hours=1),
            extra.get("financial_status", "paid"), currency, total, deposit, outstanding,
            offers, json.dumps({"id": oid}),
        ],
    )  # fmt: skip
    for i, offer_id in enumerate(offers):
        conn.execute(
            "insert into order_line_items (order_id, line_index, offer_id, quantity)"
            " values (?, ?, ?, 1)",
            [oid, i, offer_id],
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
        money = dict(total=100, deposit=20, outstanding=80)
        _order(c, 1, "awaiting_balance", "USD", age_days=3, offers=[A], **money)
        _order(c, 2, "awaiting_balance", "EUR", age_days=3, offers=[A], **money)
        _order(c, 3, "placed", "EUR", age_days=40, offers=[B], total=60, deposit=10, outstanding=50)
        paid = dict(deposit=25, outstanding=0)
        _order(c, 4, "balance_collected", "USD", age_days=100, offers=[A], total=100, **paid)
        _order(c, 5, "balance_collected", "EUR", age_days=5, offers=[A, B], total=250, **paid)
        _order(c, 6, "fulfilled", "USD", age_days=3, offers=[A], total=999, **paid)
        yield c


def test_money_by_currency_keeps_each_currency_apart(conn):
    rows = {r["currency"]: r for r in dashboards.money_by_currency(conn).to_dict("records")}
    assert set(rows) == {"EUR", "USD"}  # one sum of both would be one row of 130 outstanding
    assert rows["USD"] == {
        "shop": "default", "currency": "USD", "open_orders": 2, "awaiting_balance": 1,
        "releasable_orders": 1,
        "outstanding_balance": 80.0, "deposit_collected": 45.0, "releasable_total": 100.0,
    }  # fmt: skip
    assert rows["EUR"] == {
        "shop": "default", "currency": "EUR", "open_orders": 3, "awaiting_balance": 1,
        "releasable_orders": 1,
        "outstanding_balance": 130.0, "deposit_collected": 45.0, "releasable_total": 250.0,
    }  # fmt: skip


def test_backlog_by_offer_state_is_per_currency_with_the_name_first(conn):
    frame = dashboards.backlog_by_offer_state(conn)
    assert list(frame.columns) == [
        "shop", "offer_name", "offer_id", "state", "orders", "units", "currency",
        "deposit_collected",
        "outstanding",
    ]  # fmt: skip
    got = {
        (r.offer_name, r.state, r.currency): (
            r.orders,
            float(r.deposit_collected),
            float(r.outstanding),
        )
        for r in frame.itertuples()
    }
    assert got == {
        ("Summer drop", "awaiting_balance", "EUR"): (1, 20.0, 80.0),
        ("Summer drop", "awaiting_balance", "USD"): (1, 20.0, 80.0),
        ("Summer drop", "balance_collected", "EUR"): (1, 25.0, 0.0),
        ("Summer drop", "balance_collected", "USD"): (1, 25.0, 0.0),
        ("Winter drop", "balance_collected", "EUR"): (1, 25.0, 0.0),
        ("Winter drop", "placed", "EUR"): (1, 0.0, 50.0),
    }


def test_held_order_age_is_per_currency(conn):
    frame = dashboards.held_order_age(conn)
    got = {
        (r.age_bucket, r.state, r.currency): (r.orders, float(r.outstanding))
        for r in frame.itertuples()
    }
    assert got == {
        ("0-7d", "awaiting_balance", "EUR"): (1, 80.0),
        ("0-7d", "awaiting_balance", "USD"): (1, 80.0),
        ("0-7d", "balance_collected", "EUR"): (1, 0.0),
        ("31-90d", "placed", "EUR"): (1, 50.0),
        ("over 90d", "balance_collected", "USD"): (1, 0.0),
    }


def test_releasable_queue_carries_currency_and_offer_names(conn):
    frame = dashboards.releasable_queue(conn)
    rows = {r.order_id: r for r in frame.itertuples()}
    assert set(rows) == {4, 5}
    assert (rows[4].currency, float(rows[4].total_price)) == ("USD", 100.0)
    assert (rows[5].currency, float(rows[5].total_price)) == ("EUR", 250.0)
    assert list(rows[5].offer_names) == ["Summer drop", "Winter drop"]
    assert list(rows[5].offer_ids) == [A, B]
    columns = list(frame.columns)
    assert columns.index("offer_names") < columns.index("offer_ids")
    assert columns.index("currency") + 1 == columns.index("total_price")


def test_backlog_by_state_sums_per_state_and_currency(conn):
    rows = [
        (s, c, o, float(d), float(out)) for s, c, o, _u, d, out in checks.backlog_by_state(conn)
    ]
    assert rows == [
        ("placed", "EUR", 1, 0.0, 50.0),
        ("awaiting_balance", "EUR", 1, 20.0, 80.0),
        ("awaiting_balance", "USD", 1, 20.0, 80.0),
        ("balance_collected", "EUR", 2, 50.0, 0.0),  # order 5 once per offer, as documented
        ("balance_collected", "USD", 1, 25.0, 0.0),
    ]


def test_every_view_with_an_amount_has_a_currency(conn):
    """A view that sums money must carry `currency`, so it can only sum within one."""
    decimals = conn.execute(
        "select distinct c.table_name from duckdb_columns() c join duckdb_views() v"
        " on v.view_name = c.table_name and not v.internal"
        " where c.data_type like 'DECIMAL%'"
    ).fetchall()
    views = {name for (name,) in decimals}
    assert {"preorder_backlog", "releasable_orders", "report_money_by_currency"} <= views
    for view in sorted(views):
        columns = [r[0] for r in conn.execute(f"describe {view}").fetchall()]
        assert "currency" in columns, f"{view} has amounts but no currency"
    key_figures = [r[0] for r in conn.execute("describe report_key_figures").fetchall()]
    assert not {"outstanding_balance", "deposit_collected"} & set(key_figures)


def test_views_written_by_an_older_version_are_replaced_on_open(tmp_path):
    path = str(tmp_path / "old.duckdb")
    with duckdb.connect(path) as c:
        schema.apply(c)
        # An older release's shapes: a money total across currencies, a backlog without currency.
        c.execute("create or replace view report_key_figures as select 1.0 as outstanding_balance")
        c.execute("create or replace view preorder_backlog as select 'x' as offer_id, 1 as orders")
        # ... recorded with that release's own schema files.
        c.execute("update schema_meta set value = 'older' where key = 'schema_files'")
    with duckdb.connect(path) as c:
        schema.apply(c)
        figures = [r[0] for r in c.execute("describe report_key_figures").fetchall()]
        backlog = [r[0] for r in c.execute("describe preorder_backlog").fetchall()]
        assert "outstanding_balance" not in figures and "open_orders" in figures
        assert "currency" in backlog
        assert dashboards.load(c).money_by_currency.empty
