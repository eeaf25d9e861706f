"""The backlog report: renderer output, the `backlog_report` asset and `preorders report`."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import warehouse.schema
from assets.report import backlog_report
from assets.resources import WarehouseResource
from pipelines.cli import main
from preorders import render, tables
from preorders.sync import sync_offers, sync_orders
from tests.assets.helpers import client_for, make_shop, mature
from warehouse import dashboards

PNG = b"\x89PNG\r\n\x1a\n"
IMG = re.compile(r'<img[^>]*\bsrc="data:image/png;base64,([A-Za-z0-9+/=]+)"')
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def synced(tmp_path_factory) -> Path:
    """A warehouse file with a synced two-currency sandbox shop, a few real and dry-run rows."""
    path = tmp_path_factory.mktemp("wh") / "preorders.duckdb"
    shop = make_shop(400, currencies=("USD", "EUR"))
    mature(shop)
    with client_for(shop) as client, duckdb.connect(str(path)) as conn:
        warehouse.schema.apply(conn)
        sync_offers(client, conn, run_id="r1")
        sync_orders(client, conn, run_id="r1", mode="full")
        conn.execute(
            "insert into order_actions (key, order_id, action, status, dry_run,"
            " order_fingerprint, planned_at) select 'k' || id, id, 'release', 'succeeded',"
            " false, 'f', now() from releasable_orders limit 3"
        )
        conn.execute(
            "insert into order_actions (key, order_id, action, status, dry_run,"
            " order_fingerprint, planned_at) select 'd' || id, id, 'release', 'planned',"
            " true, 'f', now() from releasable_orders limit 2"
        )
    return path


def _load(path: Path) -> dashboards.Dashboard:
    with duckdb.connect(str(path)) as conn:
        warehouse.schema.apply(conn)
        return dashboards.load(conn)


def test_renderer_writes_pngs_and_one_self_contained_page(synced, tmp_path):
    data = _load(synced)
    assert data.key_figures["open_orders"] > 0 and not data.actions_per_day.empty
    files = render.write_report(data, tmp_path / "out", source=str(synced))

    assert set(files.images) == set(render.CHARTS)
    for png in files.images.values():
        assert png.read_bytes().startswith(PNG) and png.stat().st_size > 5_000
    page = files.html.read_text(encoding="utf-8")
    embedded = [base64.b64decode(b) for b in IMG.findall(page)]
    assert len(embedded) == len(render.CHARTS)
    assert sorted(embedded) == sorted(p.read_bytes() for p in files.images.values())
    assert not EXTERNAL.search(page), "the page must not load anything from the network"
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert f">{data.key_figures['open_orders']:,}<" in page  # the open-orders card


def test_renderer_draws_placeholders_on_an_empty_warehouse(tmp_path):
    data = _load(tmp_path / "empty.duckdb")
    files = render.write_report(data, tmp_path / "out")
    assert all(p.read_bytes().startswith(PNG) for p in files.images.values())
    assert len(IMG.findall(files.html.read_text(encoding="utf-8"))) == len(render.CHARTS)


def test_markdown_table_escapes_pipes_and_truncates():
    import pandas as pd

    frame = pd.DataFrame({"offer": ["a|b", "c", "d"], "outstanding": [1.5, 2.0, 3.25]})
    assert tables.markdown_table(frame, limit=2).splitlines() == [
        "| offer | outstanding |",
        "|---|---|",
        "| a\\|b | 1.50 |",
        "| c | 2.00 |",
        "",
        "_1 more rows_",
    ]
    assert tables.markdown_table(frame.iloc[0:0]) == "_no rows_"


def test_backlog_report_materializes_with_key_figures_and_the_page_path(synced):
    result = dg.materialize(
        [backlog_report], resources={"warehouse": WarehouseResource(database=str(synced))}
    )
    assert result.success
    (mat,) = result.asset_materializations_for_node("backlog_report")
    meta = mat.metadata
    figures = _load(synced).key_figures
    assert meta["open_orders"].value == figures["open_orders"]
    assert meta["releasable_orders"].value == figures["releasable_orders"]
    page = Path(meta["path"].value)
    assert page == synced.parent / "report" / "backlog.html" and page.is_file()
    assert meta["backlog_by_offer_state"].value.startswith("| offer_name | offer_id | state |")
    assert meta["charts"].value == len(render.CHARTS)


def test_backlog_report_is_in_the_reports_group_after_orders():
    spec = backlog_report.specs_by_key[dg.AssetKey("backlog_report")]
    assert spec.group_name == "reports"
    assert dg.AssetKey("orders") in {dep.asset_key for dep in spec.deps}


def test_preorders_report_prints_where_the_page_is(synced, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(synced))
    assert main(["report", "--out", str(tmp_path / "here")]) == 0
    first, *steps = capsys.readouterr().out.strip().splitlines()
    assert first == f"report: {tmp_path / 'here' / 'backlog.html'}"
    assert steps and all(line.startswith("next:   ") for line in steps)
    assert any(line.endswith("releasable: `preorders release`") for line in steps)
    assert (tmp_path / "here" / "backlog.html").is_file()
    assert (tmp_path / "here" / "backlog_over_time.png").is_file()


def test_backlog_over_time_draws_an_area_once_there_are_several_days(tmp_path):
    path = tmp_path / "history.duckdb"
    with duckdb.connect(str(path)) as conn:
        warehouse.schema.apply(conn)
        conn.executemany(
            "insert into order_state_history (order_id, state, observed_at)"
            " values (?, ?, now() - to_days(?))",
            [(1, "placed", 9), (1, "awaiting_balance", 5), (2, "placed", 4), (3, "fulfilled", 2)],
        )
    data = _load(path)
    assert data.backlog_over_time["day"].nunique() == 10
    files = render.write_report(data, tmp_path / "out")
    assert files.images["backlog_over_time"].stat().st_size > 10_000
