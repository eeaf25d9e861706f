"""What the backlog report says: money per currency, names before ids, dry runs apart, next steps.

One two-currency sandbox shop (USD and EUR customers), synced into a DuckDB file, with real and
dry-run ledger rows; the page, the charts' rows and the asset's metadata are read back.
"""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import warehouse.schema
from assets.report import backlog_report
from assets.resources import WarehouseResource
from preorders import render
from preorders.actions import plan_release
from preorders.charts import CHARTS, per_day
from preorders.next_steps import next_steps
from preorders.sync import sync_offers, sync_orders
from sandbox import Shop
from tests.assets.helpers import client_for, make_shop, mature
from warehouse import dashboards

REAL, DRY = 3, 5  # ledger rows the fixture adds
AMOUNT = re.compile(r"^(USD|EUR) -?[\d,]+\.\d\d$")
TABLE = re.compile(r"<table.*?</table>", re.DOTALL)
TH = re.compile(r"<th>(.*?)</th>")
ROW = re.compile(r"<tr>\s*(.*?)</tr>", re.DOTALL)
TD = re.compile(r"<td>(.*?)</td>")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, Shop]:
    """A synced two-currency shop, REAL sent release rows and DRY dry-run rows in the ledger."""
    path = tmp_path_factory.mktemp("wh") / "preorders.duckdb"
    shop = make_shop(400, currencies=("USD", "EUR"))
    mature(shop)
    with client_for(shop) as client, duckdb.connect(str(path)) as conn:
        warehouse.schema.apply(conn)
        sync_offers(client, conn, run_id="r1")
        sync_orders(client, conn, run_id="r1", mode="full")
        for prefix, status, dry, n in (
            ("k", "succeeded", False, REAL),
            ("d", "planned", True, DRY),
        ):
            conn.execute(
                "insert into order_actions (key, order_id, action, status, dry_run,"
                " order_fingerprint, planned_at) select ? || id, id, 'release', ?, ?, 'f', now()"
                " from orders order by id limit ?",
                [prefix, status, dry, n],
            )
    return path, shop


@pytest.fixture
def db(world, tmp_path) -> Path:
    """A copy of the world's warehouse this test may change."""
    return Path(shutil.copy(world[0], tmp_path / "preorders.duckdb"))


def _report(path: Path, out: Path) -> render.Report:
    with duckdb.connect(str(path)) as conn:
        warehouse.schema.apply(conn)
        return render.write_backlog_report(conn, str(path), out)


def _tables(page: str) -> list[tuple[list[str], list[list[str]]]]:
    """(header, rows of cells) of every HTML table on the page."""
    return [
        (TH.findall(t), [TD.findall(r) for r in ROW.findall(t) if "<td>" in r])
        for t in TABLE.findall(page)
    ]


def test_money_is_shown_per_currency_and_never_added_up(world, tmp_path):
    report = _report(world[0], tmp_path)
    money = {r["currency"]: r for r in report.data.money_by_currency.to_dict("records")}
    assert set(money) == {"USD", "EUR"}
    page = report.files.html.read_text(encoding="utf-8")
    for column in ("outstanding_balance", "deposit_collected"):
        usd, eur = money["USD"][column], money["EUR"][column]
        assert f"USD {usd:,.2f}" in page and f"EUR {eur:,.2f}" in page
        assert f"{usd + eur:,.2f}" not in page, f"{column} added across currencies"
    header, rows = _tables(page)[1]  # backlog by offer and state
    assert header[:3] == ["offer_name", "offer_id", "state"]
    for column in ("deposit_collected", "outstanding"):
        cells = [row[header.index(column)] for row in rows]
        assert cells and all(AMOUNT.match(c) for c in cells), cells
    assert {c.split()[0] for row in rows for c in row if AMOUNT.match(c)} == {"USD", "EUR"}


def test_every_table_puts_names_before_ids(world, tmp_path):
    page = _report(world[0], tmp_path).files.html.read_text(encoding="utf-8")
    headers = [header for header, _rows in _tables(page)]
    pairs = {("offer_name", "offer_id"), ("offer_names", "offer_ids"), ("name", "order_id")}
    seen = set()
    for header in headers:
        for name, ident in pairs:
            if ident in header:
                assert name in header and header.index(name) < header.index(ident), header
                seen.add(ident)
    assert seen == {"offer_id", "offer_ids", "order_id"}  # the backlog and the releasable queue


def test_dry_run_plans_stay_out_of_the_actions_chart(world):
    with duckdb.connect(str(world[0])) as conn:
        data = dashboards.load(conn)
    assert int(data.actions_per_day["actions"].sum()) == REAL + DRY
    real = CHARTS["actions_per_day"].rows(data)
    dry = CHARTS["dry_runs_per_day"].rows(data)
    assert int(real["actions"].sum()) == REAL and not real["dry_run"].any()
    assert int(dry["actions"].sum()) == DRY and dry["dry_run"].all()
    bars = per_day(real, "status")
    assert list(bars.columns) == ["succeeded"] and int(bars.to_numpy().sum()) == REAL


def test_the_page_ends_with_next_steps_and_their_counts(world, tmp_path):
    path, shop = world
    report = _report(path, tmp_path)
    truth = shop.truth_orders()
    awaiting = sum(o["state"] == "awaiting_balance" for o in truth)
    with duckdb.connect(str(path)) as conn:
        releasable = conn.execute("select count(*) from releasable_orders").fetchone()[0]
    assert awaiting > 0 and releasable > 0
    page = report.files.html.read_text(encoding="utf-8")
    last = page.rsplit("<h2", 1)[1]
    assert last.startswith(' id="next-steps">Next steps</h2>')
    assert f"<li>{releasable} releasable: <code>preorders release</code></li>" in last
    assert f"<li>{awaiting} awaiting balance: <code>preorders charge</code>" in last
    assert "unsettled" not in last  # no real row is open


def test_next_steps_leave_out_what_the_ledger_holds_and_name_it(db, tmp_path):
    with duckdb.connect(str(db)) as conn:
        before = {s.key: s.count for s in next_steps(conn)}
        held = plan_release(conn)[0]  # its release was sent; the answer is not in yet
        conn.execute(
            "insert into order_actions (key, order_id, action, status, attempt,"
            " order_fingerprint, planned_at, sent_at) values (?, ?, 'release', 'sent', ?, ?,"
            " now(), now())",
            [held.key, held.order_id, held.attempt, held.fingerprint],
        )
    report = _report(db, tmp_path)
    after = {s.key: s.count for s in report.steps}
    assert after == {**before, "to_release": before["to_release"] - 1, "unsettled": 1}
    page = report.files.html.read_text(encoding="utf-8")
    assert "<li>1 unsettled in the ledger: <code>preorders actions</code></li>" in page


def test_metadata_carries_money_per_currency_charts_and_next_steps(world):
    path = world[0]
    result = dg.materialize(
        [backlog_report], resources={"warehouse": WarehouseResource(database=str(path))}
    )
    (mat,) = result.asset_materializations_for_node("backlog_report")
    meta = {k: v.value for k, v in mat.metadata.items()}
    with duckdb.connect(str(path)) as conn:
        money = dashboards.money_by_currency(conn).to_dict("records")
        steps = next_steps(conn)
    assert len(money) == 2
    for row in money:
        for column in ("outstanding_balance", "deposit_collected", "releasable_total"):
            assert meta[f"{column}_{row['currency']}"] == pytest.approx(row[column])
    assert not {"outstanding_balance", "deposit_collected"} & set(meta)  # no cross sum
    assert meta["money_by_currency"].startswith("| currency |")
    assert "USD " in meta["money_by_currency"] and "EUR " in meta["money_by_currency"]
    report_dir = Path(meta["path"]).parent
    for name, chart in CHARTS.items():
        uri = re.fullmatch(
            r"!\[(.*)\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", meta[f"chart_{name}"]
        )
        assert uri and uri.group(1) == chart.title
        assert base64.b64decode(uri.group(2)) == (report_dir / f"{name}.png").read_bytes()
    for step in steps:
        assert meta[step.key] == step.count
    assert meta["next_steps"].splitlines() == [f"- {s.line()}" for s in steps if s.count]
    assert meta["backlog_by_offer_state"].startswith("| offer_name | offer_id |")


def test_metadata_adds_a_currency_up_over_shops_and_keeps_each_shops(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:
        warehouse.schema.apply(conn)
        for name, size in (("eu", 30), ("us", 20)):
            with client_for(make_shop(size)) as client:
                sync_offers(client, conn, run_id=f"r-{name}", shop=name)
                sync_orders(client, conn, run_id=f"r-{name}", mode="full", shop=name)
        rows = dashboards.money_by_currency(conn).to_dict("records")
    result = dg.materialize(
        [backlog_report], resources={"warehouse": WarehouseResource(database=str(path))}
    )
    (mat,) = result.asset_materializations_for_node("backlog_report")
    meta = {k: v.value for k, v in mat.metadata.items()}
    for currency in {r["currency"] for r in rows}:
        of = [r for r in rows if r["currency"] == currency]
        key = f"outstanding_balance_{currency}"
        assert {r["shop"] for r in of} == {"eu", "us"}
        assert meta[key] == pytest.approx(sum(float(r["outstanding_balance"]) for r in of))
        for r in of:
            assert meta[f"{r['shop']}/{key}"] == pytest.approx(float(r["outstanding_balance"]))
