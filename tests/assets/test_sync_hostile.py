"""Syncs against a hostile server over a real socket: lies cost few requests and prove nothing."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

import warehouse.schema
from preorders import walks
from preorders.sync import SyncSettings, sync_offers, sync_orders
from preorders.sync_report import SyncReport
from sandbox import DEFAULT_API_KEY, Shop
from stoq import StoqClient
from tests.assets.helpers import make_shop
from tests.hostile import Exchange, HostileServer, rewrite_json
from warehouse import loads

ORDERS = "/preorders/orders"
SETTINGS = SyncSettings(per_page=50)


def sync(server: HostileServer, db: Path, **settings: Any) -> SyncReport:
    """A full orders sync through the hostile server into `db`."""
    chosen = SyncSettings(**{"per_page": 50, **settings})
    with (
        StoqClient(DEFAULT_API_KEY, server.base_url, sleep=server.shop.clock.sleep) as client,
        duckdb.connect(str(db)) as conn,
    ):
        warehouse.schema.apply(conn)
        return sync_orders(client, conn, run_id="hostile", mode="full", settings=chosen)


def stored(db: Path) -> tuple[int, Any]:
    """(orders in the warehouse, the orders high-water mark)."""
    with duckdb.connect(str(db)) as conn:
        count = conn.execute("select count(*) from orders").fetchone()
        state = loads.sync_state(conn, "orders")
    return (count[0] if count else 0), (state or {}).get("high_water_mark")


def list_requests(server: HostileServer) -> int:
    return sum(1 for method, path, _ in server.requests if method == "GET" and path == ORDERS)


def meta_lie(**fields: Any) -> Any:
    def change(ex: Exchange, payload: Any) -> Any:
        if ex.path == ORDERS:
            payload["meta"].update(fields)
        return payload

    return rewrite_json(ORDERS, change)


@pytest.fixture
def shop() -> Shop:
    return make_shop(orders=600)


def test_total_pages_of_a_million_ends_in_few_requests_proven_by_the_count(shop, tmp_path):
    real_pages = math.ceil(600 / 50)
    with HostileServer(shop, fault=meta_lie(total_pages=1_000_000)) as server:
        report = sync(server, tmp_path / "w.duckdb")
        requests = list_requests(server)
    assert requests < 3 * real_pages  # one walk by the count, no re-walks of a lying server
    # Walked by the count, and all 600 the count names were seen: that is the proof.
    assert report.complete and report.meta_inconsistent
    assert report.doubt is not None and "total_pages" in report.doubt
    count, mark = stored(tmp_path / "w.duckdb")
    assert count == 600 and mark is not None


def test_a_consistent_lie_of_a_huge_list_stops_early_and_incomplete(shop, tmp_path):
    real_pages = math.ceil(600 / 50)
    lie = meta_lie(total_pages=1_000_000, total_count=50_000_000)
    with HostileServer(shop, fault=lie) as server:
        report = sync(server, tmp_path / "w.duckdb")
        requests = list_requests(server)
    assert requests < 3 * real_pages
    assert not report.complete and report.stopped_early and not report.meta_inconsistent
    assert stored(tmp_path / "w.duckdb") == (600, None)


def test_total_pages_1_with_a_count_of_2000_reads_every_order(tmp_path):
    shop = make_shop(orders=2000)
    with HostileServer(shop, fault=meta_lie(total_pages=1)) as server:
        report = sync(server, tmp_path / "w.duckdb")
    assert stored(tmp_path / "w.duckdb")[0] == 2000  # not 50: the count's 40 pages were read
    assert report.records == 2000
    # The server told two stories; the count was walked and every order it names was seen.
    assert report.complete and report.meta_inconsistent


def test_an_empty_page_where_the_count_says_orders_are_is_never_complete(shop, tmp_path):
    def drop_page_3(ex: Exchange, payload: Any) -> Any:
        if ex.path == ORDERS and ex.query.get("page") == "3":
            payload["orders"] = []
        return payload

    db = tmp_path / "w.duckdb"
    with HostileServer(shop, fault=rewrite_json(ORDERS, drop_page_3)) as server:
        report = sync(server, db)
        requests = list_requests(server)
    assert not report.complete and report.empty_pages >= 1
    assert report.walks == SETTINGS.max_walks  # walked again, in case the gap was passing
    assert requests <= SETTINGS.max_walks * math.ceil(600 / 50) + 3
    assert stored(db) == (550, None)


def test_records_the_warehouse_rejects_still_count_as_seen(shop, tmp_path):
    def poison(ex: Exchange, payload: Any) -> Any:
        if ex.path == ORDERS and ex.query.get("page") == "2":
            first, second = payload["orders"][:2]
            first["id"] = first["shopify_order_id"] = 2**70
            second["customer"] = {**(second.get("customer") or {}), "name": "Jo\ud800"}
        return payload

    db = tmp_path / "w.duckdb"
    with HostileServer(shop, fault=rewrite_json(ORDERS, poison)) as server:
        report = sync(server, db)
    assert report.rejected == 2
    assert report.complete  # 600 distinct ids seen, two of them rejected
    assert stored(db)[0] == 598


def test_order_ids_the_warehouse_cannot_hold_have_stable_keys() -> None:
    keys = [walks.order_id({"shopify_order_id": v}) for v in (2**70, -5, True, 1, "abc", [1])]
    assert keys[:2] == [2**70, -5]
    assert len(set(keys)) == 6  # True is not order 1; a list does not break the set
    assert walks.storable(keys) == [-5, 1]


class SlowOrders:
    """A client whose get_order for one id never answers until released."""

    def __init__(self) -> None:
        self.concurrency = 2
        self.release, self.entered = threading.Event(), threading.Event()

    def get_order(self, oid: int) -> dict[str, Any]:
        if oid == 2:
            self.entered.set()
            self.release.wait(30)
        return {"id": oid, "shopify_order_id": oid}


class Interrupting:
    """A load interrupted (Ctrl-C) on its first chunk, once the slow read is in flight."""

    def __init__(self, client: SlowOrders) -> None:
        self.client = client
        self.raised_at = 0.0

    def add(self, frames: Any) -> None:
        assert self.client.entered.wait(5)
        self.raised_at = time.monotonic()
        raise KeyboardInterrupt


def test_single_reads_let_go_at_once_on_an_interrupt() -> None:
    client = SlowOrders()
    load = Interrupting(client)
    report = SyncReport("orders", "incremental", "r")
    try:
        with pytest.raises(KeyboardInterrupt):
            walks.load_singles(client, [1, 3, 2, 4], load, report, chunk=2)  # type: ignore[arg-type]
        assert load.raised_at and time.monotonic() - load.raised_at < 5
    finally:
        client.release.set()


def test_offers_pages_emptied_by_the_server_flag_no_offer_missing(tmp_path):
    shop = make_shop(orders=50)
    db = tmp_path / "w.duckdb"
    offers = "/preorders/offers"

    def empty(ex: Exchange, payload: Any) -> Any:
        payload["offers"] = []  # the count still says 12
        return payload

    for fault in (None, rewrite_json(offers, empty)):
        with (
            HostileServer(shop, fault=fault) as server,
            StoqClient(DEFAULT_API_KEY, server.base_url) as client,
            duckdb.connect(str(db)) as conn,
        ):
            warehouse.schema.apply(conn)
            report = sync_offers(client, conn, run_id="offers")
            flagged = conn.execute("select count(*) from offers where missing_since is not null")
            assert flagged.fetchone() == (0,)
    assert not report.complete and report.empty_pages >= 1


def test_an_offer_id_with_a_lone_surrogate_is_rejected_and_the_rest_load(tmp_path):
    shop = make_shop(orders=20)
    db = tmp_path / "w.duckdb"

    def bad_first_id(ex: Exchange, payload: Any) -> Any:
        if payload["offers"] and ex.query.get("page", "1") == "1":
            payload["offers"][0]["id"] = "offer-\ud800"
        return payload

    with (
        HostileServer(shop, fault=rewrite_json("/preorders/offers", bad_first_id)) as server,
        StoqClient(DEFAULT_API_KEY, server.base_url) as client,
        duckdb.connect(str(db)) as conn,
    ):
        warehouse.schema.apply(conn)
        report = sync_offers(client, conn, run_id="offers")
        stored = conn.execute("select count(*) from offers").fetchone()
        rejects = conn.execute("select reason from _rejects").fetchall()
    assert report.rejected >= 1 and stored is not None and stored[0] >= 1
    assert any("not valid Unicode" in reason for (reason,) in rejects)
