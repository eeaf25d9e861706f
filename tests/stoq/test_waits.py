"""The client tells a listener of each pause as it begins (retries, rate-limit holds)."""

from __future__ import annotations

import httpx
import pytest

from stoq.ratelimit import Room
from stoq.waits import Wait

from .conftest import FakeApi, fail, reply

ORDER = {"id": 1, "shopify_order_id": 1, "state": "placed"}
GET_PATH = "/preorders/orders/1"


def listening(client) -> list[Wait]:
    heard: list[Wait] = []
    assert client.listen(heard.append) is None  # nobody listened before
    return heard


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (fail(httpx.ConnectError, "[Errno -2] Name or service not known"), "cannot reach host"),
        (fail(httpx.ReadTimeout), "timed out"),
        (fail(httpx.RemoteProtocolError), "connection error (RemoteProtocolError)"),
        (reply(503, {"errors": ["down"]}), "server error 503"),
        (reply(200, content=b"<html>"), "malformed answer"),
    ],
)
def test_each_retry_is_told_before_its_backoff_with_why(make_client, clock, failure, reason):
    client = make_client(FakeApi().on("GET", GET_PATH, failure, failure, reply(200, ORDER)))
    heard = listening(client)
    assert client.get_order(1) == ORDER
    assert [(w.kind, w.reason, w.retry, w.retries) for w in heard] == [
        ("retry", reason, 1, 6),
        ("retry", reason, 2, 6),
    ]
    assert [w.seconds for w in heard] == clock.sleeps  # told the very wait it then took


def test_a_429_hold_and_a_budget_hold_are_rate_limit_waits(make_client, clock):
    limited = reply(429, headers={"Retry-After": "7"})
    api = FakeApi().on("GET", GET_PATH, limited, reply(200, ORDER))
    client = make_client(api, points_per_window=2, window_seconds=60)
    heard = listening(client)
    client.get_order(1)
    assert heard[0] == Wait("rate_limit", 7.0, "429 Too Many Requests")
    assert heard[1].kind == "rate_limit" and heard[1].reason == "rate budget"
    assert heard[1].seconds == pytest.approx(7.0)  # the hold the 429 left in the budget
    client.get_order(1)  # 2 points spent in the window: the third request waits for room
    assert heard[-1].reason == "rate budget" and heard[-1].seconds > 0


def test_listen_returns_the_listener_it_replaces_and_none_stops_the_telling(make_client):
    client = make_client(FakeApi().on("GET", GET_PATH, fail(httpx.ConnectError), reply(200, ORDER)))
    heard = listening(client)
    assert client.listen(None) == heard.append
    client.get_order(1)
    assert heard == []


def test_rate_room_is_the_fewer_points_of_ours_and_the_servers(make_client):
    headers = {"X-RateLimit-Limit": "360", "X-RateLimit-Remaining": "5"}
    client = make_client(FakeApi().on("GET", GET_PATH, reply(200, ORDER, headers=headers)))
    assert client.rate_room() == Room(360, 360, 60.0)  # nothing spent, nothing heard yet
    client.get_order(1)
    assert client.rate_room() == Room(360, 5, 60.0)  # another client spent from the same key
    quiet = make_client(FakeApi().on("GET", GET_PATH, reply(200, ORDER)), points_per_window=10)
    quiet.get_order(1)
    assert quiet.rate_room() == Room(10, 9, 60.0)  # no headers: our own count
