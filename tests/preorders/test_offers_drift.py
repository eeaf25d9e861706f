"""An offers list that shifts mid-walk is walked again; one that never holds still flags none."""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import httpx

import warehouse.schema
from preorders.offer_walks import OFFER_WALKS
from preorders.sync import sync_offers
from stoq import StoqClient

KEY = "stoq_api_key_" + "d" * 32
BASE_URL = "https://stoq.test/api/v2/external"


class ShiftingOffers:
    """Newest first, discarded offers only when asked; `discards` of the newest live offer
    happen as page 1 of an unfiltered walk is served (after its count was read)."""

    def __init__(self, count: int, discards: int = 0) -> None:
        self.live = [{"id": f"offer-{i:04d}", "status": "enabled"} for i in range(count, 0, -1)]
        self.discarded: list[dict[str, Any]] = []
        self.discards, self.walks, self.lock = discards, 0, threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status = request.url.params.get("status")
        page, size = int(request.url.params.get("page", 1)), 25
        with self.lock:
            pool = list(self.discarded if status == "discarded" else self.live)
            if status is None and page == 1:
                self.walks += 1
                if self.discards:
                    self.discards -= 1
                    self.discarded.append(dict(self.live.pop(0), status="discarded"))
        meta = {"total_count": len(pool), "per_page": size, "total_pages": -(-len(pool) // size)}
        return httpx.Response(
            200, json={"offers": pool[(page - 1) * size : page * size], "meta": meta}
        )


def sync(api: ShiftingOffers, conn: duckdb.DuckDBPyConnection, run_id: str) -> Any:
    with StoqClient(KEY, BASE_URL, transport=httpx.MockTransport(api), concurrency=1) as client:
        return sync_offers(client, conn, run_id=run_id)


def flagged(conn: duckdb.DuckDBPyConnection) -> list[str]:
    rows = conn.execute("select id from offers where missing_since is not null").fetchall()
    return [row[0] for row in rows]


def test_an_offer_discarded_mid_walk_flags_no_live_offer_missing() -> None:
    conn = duckdb.connect()
    warehouse.schema.apply(conn)
    api = ShiftingOffers(150)
    sync(api, conn, "r1")
    api.discards = 1  # the newest offer goes while page 1 is read: the list shifts by one
    report = sync(api, conn, "r2")
    assert api.walks == 3  # r1 once; r2 drifted, then walked again and held still
    assert report.complete and report.drift
    assert report.walks == 4  # twice the live list and twice the discarded one
    assert flagged(conn) == []
    statuses = dict(conn.execute("select id, status from offers").fetchall())
    assert len(statuses) == 150 and statuses["offer-0150"] == "discarded"


def test_a_list_that_never_holds_still_is_incomplete_and_flags_nothing() -> None:
    conn = duckdb.connect()
    warehouse.schema.apply(conn)
    api = ShiftingOffers(150)
    sync(api, conn, "r1")
    api.discards = OFFER_WALKS
    report = sync(api, conn, "r2")
    assert not report.complete and api.walks == 1 + OFFER_WALKS
    assert flagged(conn) == []
