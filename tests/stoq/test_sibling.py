"""A sibling client: the same key's budget, its own counters, listener and connections."""

from __future__ import annotations

import threading

import sandbox
from stoq import StoqClient
from stoq.waits import Wait

from .conftest import FakeClock


def client_on(shop: sandbox.Shop, clock: FakeClock, points: int) -> StoqClient:
    return StoqClient(
        sandbox.DEFAULT_API_KEY, "http://sandbox.test" + sandbox.BASE_PATH,
        transport=sandbox.mock_transport(shop), per_page=25, points_per_window=points,
        sleep=clock.sleep, clock=clock.monotonic, wall_clock=clock.time,
    )  # fmt: skip


def test_a_sibling_spends_from_the_same_budget_and_counts_its_own_requests():
    clock = FakeClock()
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=100, offers=3), clock=clock)
    with client_on(shop, clock, points=360) as client, client.sibling() as twin:
        assert len(twin.list_orders().all()) == 100  # 4 pages
        assert client.rate_room().remaining == 360 - 4  # the one budget of the key
        assert (twin.stats.snapshot().requests, client.stats.snapshot().requests) == (4, 0)
        client.list_offers().all()
        assert (twin.stats.snapshot().requests, client.stats.snapshot().requests) == (4, 1)


def test_two_walks_at_once_on_client_and_sibling_never_go_past_the_budget():
    clock = FakeClock()
    shop = sandbox.Shop(
        sandbox.SandboxConfig(orders=400, rate_limit_points=10, rate_limit_window=60.0),
        clock=clock,
    )
    with client_on(shop, clock, points=10) as client, client.sibling() as twin:
        counts: dict[str, int] = {}

        def walk(name: str, who: StoqClient) -> None:
            counts[name] = len(who.list_orders().all())

        threads = [
            threading.Thread(target=walk, args=(n, c)) for n, c in (("a", client), ("b", twin))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert counts == {"a": 400, "b": 400}  # 16 pages each, 32 points through a 10-point window
        assert [e for e in shop.log if e["status"] == 429] == []
        assert client.stats.snapshot().requests + twin.stats.snapshot().requests == 32


def test_each_hears_only_its_own_waits():
    clock = FakeClock()
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=100), clock=clock)
    with client_on(shop, clock, points=2) as client, client.sibling() as twin:
        heard: dict[str, list[Wait]] = {"client": [], "twin": []}
        twin.listen(heard["twin"].append)
        client.listen(heard["client"].append)  # the later listener must not take the twin's
        twin.list_orders().all()  # 4 pages through a 2-point window: budget holds
        assert heard["twin"] and all(w.kind == "rate_limit" for w in heard["twin"])
        assert heard["client"] == []
