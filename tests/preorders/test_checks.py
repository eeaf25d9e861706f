"""The data-quality checks as plain outcomes: names, severities, blocking flags, verdicts."""

from __future__ import annotations

from pathlib import Path

import duckdb

import warehouse.schema
from preorders import checks
from preorders.sync import sync_offers, sync_orders
from preorders.sync_report import SyncReport
from tests.assets.helpers import client_for, make_shop

EXPECTED = {  # name: (asset, severity, blocking), as the Dagster definitions always had them
    "orders_ids_unique": ("orders", "ERROR", True),
    "offers_ids_unique": ("offers", "ERROR", True),
    "orders_states_documented": ("orders", "ERROR", False),
    "orders_count_matches_api": ("orders", "WARN", False),
}  # freshness is the sync assets' FreshnessPolicy now, not a check


def test_every_check_passes_after_a_full_sync(tmp_path: Path) -> None:
    shop = make_shop(150)
    with client_for(shop) as client, duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        warehouse.schema.apply(conn)
        offers = sync_offers(client, conn, run_id="r1")
        orders = sync_orders(client, conn, run_id="r1", mode="full")
        outcomes = checks.evaluate_checks(conn)
    assert {o.name: (o.asset, o.severity, o.blocking) for o in outcomes} == EXPECTED
    assert [o.name for o in outcomes if not o.passed] == []
    by_name = {o.name: o.metadata for o in outcomes}
    assert by_name["orders_count_matches_api"] == {"live_orders": 150, "api_total_count": 150}
    assert by_name["orders_states_documented"] == {"unknown_states": {}, "orders": 0}
    for report in (offers, orders):
        outcome = checks.completeness(report)
        assert outcome.passed and outcome.blocking and outcome.severity == "ERROR"
        assert outcome.name == f"{report.stream}_sync_complete"
        assert outcome.metadata["reason"] == "complete"


def test_an_empty_warehouse_fails_the_count(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        warehouse.schema.apply(conn)
        failed = {o.name for o in checks.evaluate_checks(conn) if not o.passed}
    assert failed == {"orders_count_matches_api"}


def test_completeness_fails_an_incomplete_walk_with_its_reason() -> None:
    report = SyncReport("orders", "full", "r1", records=50, complete=False, total_count=2000)
    outcome = checks.completeness(report)
    assert not outcome.passed and outcome.blocking
    assert outcome.metadata["reason"].startswith("sync incomplete: saw 50 of 2,000 orders")
    assert outcome.metadata["api_total_count"] == 2000
    failed = checks.failed_sync("offers", "STOQ rejected the API key (401 Unauthorized)")
    assert (failed.name, failed.passed, failed.blocking) == ("offers_sync_complete", False, True)


def test_checks_judge_one_shops_rows(tmp_path: Path) -> None:
    """A shop's checks see only its rows: shop b's odd state and counts never fail shop a."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        warehouse.schema.apply(conn)
        for name, size in (("a", 40), ("b", 25)):
            with client_for(make_shop(size)) as client:
                sync_offers(client, conn, run_id=f"r-{name}", shop=name)
                sync_orders(client, conn, run_id=f"r-{name}", mode="full", shop=name)
        conn.execute("update orders set state = 'teleported' where shop = 'b' and id in "
                     "(select id from orders where shop = 'b' limit 3)")  # fmt: skip
        a = {o.name: o for o in checks.evaluate_checks(conn, shop="a")}
        b = {o.name: o for o in checks.evaluate_checks(conn, shop="b")}
        counts = {s: checks.checks.row_counts(conn, s)["orders"] for s in ("a", "b", None)}
    assert all(o.passed for o in a.values())
    assert a["orders_count_matches_api"].metadata == {"live_orders": 40, "api_total_count": 40}
    assert not b["orders_states_documented"].passed
    assert b["orders_states_documented"].metadata["orders"] == 3
    assert b["orders_count_matches_api"].metadata == {"live_orders": 25, "api_total_count": 25}
    assert counts == {"a": 40, "b": 25, None: 65}
