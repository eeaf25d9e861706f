"""`preorders demo`, then the UI the way it prints: the same shops, warehouse, ledger and runs.

The demo serves two sandbox shops (`shop1`, `shop2`) and syncs both into one warehouse. It runs
as a subprocess in a fresh environment; its printed sandbox line runs in a fresh shell from
another folder. Instead of a browser, the jobs a UI launches run in-process under the printed
environment and Dagster home (tests/browser launches one from the webserver).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.pipelines.cli_helpers import free_port
from tests.pipelines.demo_helpers import (
    DemoRun,
    fresh_shell_env,
    release_requests,
    run_demo,
    serving_the_saved_shop,
    truth_orders,
)

UI_SESSION = Path(__file__).with_name("demo_ui_session.py")
ORDERS = 80  # per shop
SHOPS = ["shop1", "shop2"]  # as `preorders sandbox --shops 2` names them


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> DemoRun:
    return run_demo(tmp_path_factory.mktemp("demo"), orders=ORDERS, sandbox_port=free_port())


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def warehouse_orders(db: Path, shop: str) -> dict[int, str]:
    return dict(query(db, "select id, state from orders where shop = ?", [shop]))


def released_by_the_demo(db: Path) -> set[tuple[str, int]]:
    rows = query(
        db,
        "select shop, order_id from order_actions"
        " where action = 'release' and status = 'succeeded' and not dry_run",
    )
    return {(shop, order_id) for shop, order_id in rows}


def release_rows(db: Path) -> list[tuple]:
    return query(
        db,
        "select shop, key, order_id, status, dry_run from order_actions"
        " where action = 'release' order by shop, key",
    )


def test_the_printed_lines_use_the_demos_files_and_absolute_paths(demo: DemoRun):
    from sandbox import shop_key

    assert demo.shop_state == demo.db.with_name("demo-shop.json") and demo.shop_state.is_file()
    assert demo.db.with_name("demo-shop-shop2.json").is_file()  # `--state`'s name for shop 2
    assert demo.env["PREORDERS_DUCKDB_PATH"] == str(demo.db)
    assert demo.env["PREORDERS_SHOPS"] == str(demo.db.with_name("demo-shops.yaml"))
    assert demo.shops == SHOPS
    # The shops' key variables, as `preorders sandbox --shops 2` prints them (sandbox keys).
    assert demo.env["STOQ_API_KEY_SHOP1"] == shop_key(1)
    assert demo.env["STOQ_API_KEY_SHOP2"] == shop_key(2)
    assert demo.env["STOQ_BASE_URL"].startswith(f"{demo.sandbox_url}/")
    assert "STOQ_API_KEY" not in demo.env  # the shops file names each shop's variable
    assert demo.dagster_home == demo.db.parent / "dagster"
    assert (demo.dagster_home / "dagster.yaml").is_file()
    serve = shlex.split(demo.serve_line)
    assert Path(serve[0]).is_absolute() and serve[1:5] == ["sandbox", "--shops", "2", "--state"]
    dagster = [w for w in shlex.split(demo.dagster_line) if w.split("=", 1)[0] not in demo.env]
    assert Path(dagster[0]).is_absolute() and Path(dagster[0]).name == "dagster"
    assert dagster[1] == "dev"


def test_the_shops_file_is_a_valid_preorders_shops_file_under_the_printed_env(demo: DemoRun):
    from preorders.shops import load_shops

    shops = load_shops(demo.env)
    assert [s.name for s in shops] == SHOPS
    assert {s.base_url for s in shops} == {demo.env["STOQ_BASE_URL"]}
    assert [s.api_key(demo.env) for s in shops] == [
        demo.env["STOQ_API_KEY_SHOP1"],
        demo.env["STOQ_API_KEY_SHOP2"],
    ]
    assert "stoq_api_key_" not in demo.shops_file.read_text()  # keys never live in the file


def test_both_shops_land_in_one_warehouse(demo: DemoRun):
    counts = dict(query(demo.db, "select shop, count(*) from orders group by shop"))
    assert counts == {shop: ORDERS for shop in SHOPS}
    streams = query(demo.db, "select shop, stream from sync_state order by shop, stream")
    assert streams == [(shop, stream) for shop in SHOPS for stream in ("offers", "orders")]
    released = released_by_the_demo(demo.db)
    assert {shop for shop, _ in released} == set(SHOPS)  # each shop released its own orders
    for shop in SHOPS:  # and every order it released is that shop's
        ids = {order_id for s, order_id in released if s == shop}
        assert ids <= set(warehouse_orders(demo.db, shop))


def test_the_demo_runs_each_action_per_shop_and_shows_every_shop(demo: DemoRun):
    out = demo.stdout
    assert re.search(r"^\$ preorders sync$", out, re.MULTILINE)
    for shop in SHOPS:
        assert f"$ preorders release --shop {shop} --dry-run\n" in out
        assert f"$ preorders release --shop {shop}\n" in out
        assert re.search(rf"^{shop}\s+USD\s+\d+", out, re.MULTILINE), "no backlog row"
        assert re.search(rf"^shop\s+{shop}$", out, re.MULTILINE), "no status section"
    assert "(PREORDERS_SHOPS: shop1, shop2)" in out


def test_the_backlog_per_shop_before_the_release_and_after_the_report(demo: DemoRun):
    tables = re.findall(r"^(shop\d)\s+USD\s+(\d+)\s+\d+\s+(\d+)\s", demo.stdout, re.MULTILINE)
    before, after = tables[: len(SHOPS)], tables[len(SHOPS) :]
    assert [shop for shop, *_ in before] == [shop for shop, *_ in after] == SHOPS
    assert all(int(releasable) > 0 for *_, releasable in before)  # what the releases took
    now = query(
        demo.db, "select shop, open_orders, releasable_orders from report_money_by_currency"
        " order by shop"
    )  # fmt: skip
    assert [(shop, int(n), int(r)) for shop, n, r in after] == now  # as the warehouse holds
    assert [releasable for *_, releasable in now] == [0] * len(SHOPS)  # nothing left to release


def test_the_printed_sandbox_serves_the_shops_the_demo_left(demo: DemoRun, tmp_path: Path):
    released = released_by_the_demo(demo.db)
    assert released, "the demo released nothing: nothing to prove"
    with serving_the_saved_shop(demo, tmp_path) as url:
        served = {shop: truth_orders(url, shop) for shop in SHOPS}
    for shop in SHOPS:  # same ids, same states as the demo's last sync, shop by shop
        assert served[shop] == warehouse_orders(demo.db, shop)
    assert {served[shop][order_id] for shop, order_id in released} == {"released"}


def test_a_ui_session_releases_nothing_the_demo_released(demo: DemoRun, tmp_path: Path):
    before = release_rows(demo.db)
    with serving_the_saved_shop(demo, tmp_path) as url:
        done = subprocess.run(
            [sys.executable, str(UI_SESSION)],
            cwd=tmp_path,
            env={**fresh_shell_env(tmp_path), **demo.env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        session = json.loads(done.stdout.splitlines()[-1])
        assert release_requests(url) == []  # in either shop
        served = {shop: truth_orders(url, shop) for shop in SHOPS}
    # The UI shows the demo's runs (its report is in this Dagster home) and a partition per shop.
    assert session["report"] == str(demo.report)
    assert session["partitions"] == SHOPS
    for shop in SHOPS:  # synced and released for real from the UI: nothing left to send
        done = session["shops"][shop]
        assert done == {"synced": True, "released": True, "sent": 0, "errors": []}, done
    assert release_rows(demo.db) == before  # the ledger gained no release row
    for shop in SHOPS:
        assert served[shop] == warehouse_orders(demo.db, shop)
