"""The `orders` asset page after `preorders demo`, as Dagster 1.13 renders it in Chromium.

The demo's CLI sync records runless materializations carrying Dagster's table metadata, one per
shop partition (the demo syncs two shops), and the sync assets carry a `FreshnessPolicy` the
daemon `dagster dev` runs evaluates: the page shows the row count DuckDB holds for the shop, the
columns, owners/kinds/tags and the policy with its state, and no customer's email or name.
"""

from __future__ import annotations

import time

import duckdb
import pytest

from tests.browser.conftest import Chromium, DemoData, graphql

pytestmark = pytest.mark.browser

FRESHNESS = """{ assetNodeOrError(assetKey: {path: ["orders"]}) { ... on AssetNode {
  freshnessStatusInfo { freshnessStatus }
  internalFreshnessPolicy { ... on TimeWindowFreshnessPolicy {
    failWindowSeconds warnWindowSeconds } } } } }"""


def _freshness(url: str) -> dict:
    return graphql(url, FRESHNESS)["assetNodeOrError"]


@pytest.fixture(scope="module")
def orders_page(dagster_ui: str, chromium: Chromium) -> list[str]:
    """The page's text lines, once the daemon has evaluated the freshness policy."""
    deadline = time.monotonic() + 120
    while _freshness(dagster_ui)["freshnessStatusInfo"]["freshnessStatus"] == "UNKNOWN":
        assert time.monotonic() < deadline, "the daemon never evaluated orders' freshness"
        time.sleep(1)
    return chromium.text(f"{dagster_ui}/assets/orders").split("\n")


def _after(lines: list[str], label: str, span: int = 1) -> list[str]:
    """The `span` lines after the first `label`."""
    assert label in lines, f"{label!r} not on the page"
    at = lines.index(label)
    return lines[at + 1 : at + 1 + span]


def _read(db, query: str) -> list[tuple]:
    """Rows of a read-only query (waits while a run holds the file)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with duckdb.connect(str(db), read_only=True) as conn:
                return conn.execute(query).fetchall()
        except duckdb.IOException:
            assert time.monotonic() < deadline, "the warehouse stayed locked"
            time.sleep(0.5)


def test_the_orders_page_shows_the_row_count_duckdb_holds(
    orders_page: list[str], demo_data: DemoData
):
    counts = dict(_read(demo_data.db, "select shop, count(*) from orders group by shop"))
    assert counts == {"shop1": 300, "shop2": 300}  # the demo's two shops, one table
    # The latest materialization is one shop's partition: that shop's rows.
    assert _after(orders_page, "Row count") == ["300"]


def test_the_orders_page_lists_the_tables_columns_and_its_key(
    orders_page: list[str], demo_data: DemoData
):
    columns = [name for (name,) in _read(demo_data.db, "select column_name from (describe orders)")]
    shown = orders_page[orders_page.index("Columns") : orders_page.index("Metadata")]
    assert "primary key (shop, id)" in shown  # issue 13: the shop leads every key
    assert [line for line in shown if line in columns] == columns


def test_the_orders_page_shows_owner_kinds_and_tags(orders_page: list[str]):
    assert _after(orders_page, "Owners") == ["preorders"]
    assert _after(orders_page, "Kinds", 2) == ["DuckDB", "Table"]
    assert {"pii: true", "source: stoq"} <= set(_after(orders_page, "Tags", 3))


def test_the_orders_page_shows_the_freshness_policy_and_its_state(
    orders_page: list[str], dagster_ui: str
):
    policy = _freshness(dagster_ui)
    assert policy["internalFreshnessPolicy"] == {
        "failWindowSeconds": 3 * 3600,
        "warnWindowSeconds": 2 * 3600,
    }
    assert policy["freshnessStatusInfo"]["freshnessStatus"] == "HEALTHY"  # just synced
    assert _after(orders_page, "Freshness policy") == ["Passing"]
    details = orders_page[len(orders_page) - orders_page[::-1].index("Freshness policy") :]
    assert "Fails if more than 3 hours since last materialization" in details
    assert "Warns if more than 2 hours since last materialization" in details


def test_no_customer_email_or_name_on_the_orders_page(orders_page: list[str], demo_data: DemoData):
    stored = _read(demo_data.db, "select customer_email, customer_name from orders")
    customers = {value for row in stored for value in row if value}
    assert len(customers) > 10
    text = "\n".join(orders_page)
    assert "customer_email" in text  # the column's name is shown, never a value
    assert not sorted(c for c in customers if c in text)
