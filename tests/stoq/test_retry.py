"""Retries per SPEC §8.19: reads on 429/5xx/timeouts/drops/bad bodies, writes only on 429."""

from __future__ import annotations

import email.utils
import random

import httpx
import pytest

from stoq import StoqClient, errors
from stoq.retry import RetryPolicy

from .conftest import FakeApi, fail, reply

ORDER = {"id": 1, "shopify_order_id": 1, "state": "placed"}
GET_PATH = "/preorders/orders/1"
POST_PATH = "/preorders/orders/1/payments/charge_balance"
V1_429 = {
    "error": "Rate limit exceeded",
    "retry_after": 24,
    "message": "You have exceeded the rate limit of 360 points per 60 seconds.",
}


def test_429_with_retry_after_header_only(make_client, clock):
    api = FakeApi().on("GET", GET_PATH, reply(429, headers={"Retry-After": "7"}), reply(200, ORDER))
    client = make_client(api)
    assert client.get_order(1) == ORDER
    assert clock.now == pytest.approx(7.0)
    stats = client.stats.snapshot()
    assert (stats.requests, stats.retries, stats.rate_limited) == (2, 1, 1)


def test_429_with_http_date_retry_after(make_client, clock):
    when = email.utils.formatdate(clock.time() + 30, usegmt=True)
    limited = reply(429, headers={"Retry-After": when})
    api = FakeApi().on("GET", GET_PATH, limited, reply(200, ORDER))
    make_client(api).get_order(1)
    assert 29.0 <= clock.now <= 31.0


def test_429_with_v1_body_only(make_client, clock):
    api = FakeApi().on("GET", GET_PATH, reply(429, V1_429), reply(200, ORDER))
    make_client(api).get_order(1)
    assert clock.now == pytest.approx(24.0)


def test_429_with_errors_body_and_reset_header_only(make_client, clock):
    reset = str(int(clock.time()) + 12)
    limited = reply(429, {"errors": ["Rate limit exceeded"]}, headers={"X-RateLimit-Reset": reset})
    api = FakeApi().on("GET", GET_PATH, limited, reply(200, ORDER))
    make_client(api).get_order(1)
    assert clock.now == pytest.approx(12.0)


def test_429_with_nothing_falls_back_to_backoff(make_client, clock):
    api = FakeApi().on("GET", GET_PATH, reply(429, content=b""), reply(200, ORDER))
    assert make_client(api).get_order(1) == ORDER
    assert clock.now <= 0.5


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_reads_retry_on_5xx(make_client, status, clock):
    api = FakeApi().on("GET", GET_PATH, reply(status), reply(status), reply(200, ORDER))
    client = make_client(api)
    assert client.get_order(1) == ORDER
    stats = client.stats.snapshot()
    assert (stats.requests, stats.retries, stats.server_errors) == (3, 2, 2)
    assert clock.now == pytest.approx(stats.retry_wait_seconds)


@pytest.mark.parametrize(
    "exc_type",
    [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError, httpx.RemoteProtocolError],
)
def test_reads_retry_on_timeouts_and_dropped_connections(make_client, exc_type):
    api = FakeApi().on("GET", GET_PATH, fail(exc_type), reply(200, ORDER))
    client = make_client(api)
    assert client.get_order(1) == ORDER
    assert client.stats.snapshot().transport_errors == 1


def test_reads_retry_on_truncated_json(make_client):
    api = FakeApi().on("GET", GET_PATH, reply(200, content=b'{"id": 1, "shop'), reply(200, ORDER))
    client = make_client(api)
    assert client.get_order(1) == ORDER
    assert client.stats.snapshot().bad_bodies == 1


def test_retries_stop_at_max_retries(make_client):
    api = FakeApi().on("GET", GET_PATH, reply(500))
    with pytest.raises(errors.ServerError):
        make_client(api, max_retries=6).get_order(1)
    assert len(api.requests) == 7


def test_401_fails_fast(make_client, clock):
    api = FakeApi().on("GET", GET_PATH, reply(401, {"errors": ["Unauthorized"]}))
    with pytest.raises(errors.Unauthorized):
        make_client(api).get_order(1)
    assert len(api.requests) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(
    "handler",
    [
        reply(500),
        reply(503, {"errors": ["down"]}),
        fail(httpx.ReadTimeout),
        fail(httpx.WriteTimeout),
        fail(httpx.RemoteProtocolError),
        fail(httpx.ReadError),
        reply(202, content=b'{"id": 1, "state": "bal'),
    ],
    ids=["500", "503", "read-timeout", "write-timeout", "dropped", "read-error", "truncated"],
)
def test_writes_are_not_retried_when_the_outcome_is_unknown(make_client, handler):
    api = FakeApi().on("POST", POST_PATH, handler, reply(202, ORDER))
    with pytest.raises(errors.WriteOutcomeUnknown):
        make_client(api).charge_balance(1)
    assert len(api.requests) == 1


def test_writes_are_retried_on_429(make_client, clock):
    api = FakeApi().on(
        "POST", POST_PATH, reply(429, V1_429, headers={"Retry-After": "3"}), reply(202, ORDER)
    )
    client = make_client(api)
    assert client.charge_balance(1) == ORDER
    assert len(api.requests) == 2
    assert clock.now == pytest.approx(3.0)
    assert client.stats.snapshot().points == 4  # writes cost 2 points each


@pytest.mark.parametrize("exc_type", [httpx.ConnectError, httpx.ConnectTimeout])
def test_writes_are_retried_when_the_request_never_left(make_client, exc_type):
    api = FakeApi().on("POST", POST_PATH, fail(exc_type), reply(202, ORDER))
    assert make_client(api).charge_balance(1) == ORDER
    assert len(api.requests) == 2


def test_write_validation_errors_are_not_retried(make_client):
    api = FakeApi().on("POST", POST_PATH, reply(422, {"errors": ["bad"]}))
    with pytest.raises(errors.ValidationError):
        make_client(api).charge_balance(1)
    assert len(api.requests) == 1


def test_backoff_is_capped_exponential_with_full_jitter():
    policy = RetryPolicy(base=0.5, cap=8.0, rng=random.Random(1))
    for attempt in range(10):
        ceiling = min(8.0, 0.5 * 2**attempt)
        draws = [policy.backoff(attempt) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in draws)
        assert max(draws) > ceiling * 0.8  # the whole range is used, not a fixed delay


def test_retry_after_holds_back_every_thread(make_client, clock):
    """After a 429 the pause is shared: the next request, whatever it is, waits too."""
    api = (
        FakeApi()
        .on("GET", GET_PATH, reply(429, headers={"Retry-After": "5"}), reply(200, ORDER))
        .on("GET", "/preorders/orders/2", reply(200, {**ORDER, "id": 2}))
    )
    client = make_client(api, max_retries=0)
    with pytest.raises(errors.RateLimited):
        client.get_order(1)
    assert clock.now == 0.0
    client.get_order(2)
    assert clock.now == pytest.approx(5.0)


@pytest.mark.parametrize("asked", ["86400", "http-date"])
def test_a_retry_after_over_max_retry_wait_raises_at_once(make_client, clock, asked):
    if asked == "http-date":
        asked = email.utils.formatdate(clock.time() + 86400, usegmt=True)
    limited = reply(429, headers={"Retry-After": asked})
    api = FakeApi().on("GET", GET_PATH, limited, reply(200, ORDER))
    api.on("GET", "/preorders/orders/2", reply(200, {**ORDER, "id": 2}))
    client = make_client(api)
    with pytest.raises(errors.RateLimited, match="over max_retry_wait 120s") as caught:
        client.get_order(1)
    assert caught.value.retry_after == pytest.approx(86400, abs=1)
    assert len(api.requests) == 1 and clock.sleeps == [] and clock.now == 0.0
    client.get_order(2)  # nor is the shared budget held back for a day
    assert clock.now == 0.0


def test_max_retry_wait_is_configurable_and_defaults_to_the_window_or_two_minutes(
    make_client, clock
):
    api = FakeApi().on("GET", GET_PATH, reply(429, headers={"Retry-After": "100"}))
    with pytest.raises(errors.RateLimited) as caught:
        make_client(api, max_retry_wait=30).get_order(1)
    assert caught.value.retry_after == 100 and clock.now == 0.0
    api.on("GET", GET_PATH, reply(429, headers={"Retry-After": "100"}), reply(200, ORDER))
    assert make_client(api).get_order(1) == ORDER  # 100 s is within the default 120 s
    assert clock.now == pytest.approx(100.0)
    api.on("GET", GET_PATH, reply(429, headers={"Retry-After": "200"}), reply(200, ORDER))
    assert make_client(api, window_seconds=300.0).get_order(1) == ORDER
    assert clock.now == pytest.approx(300.0)


@pytest.mark.parametrize("odd", ["nan", "NaN", "inf", "-inf"])
def test_a_wait_that_is_not_a_finite_number_falls_back_to_backoff(make_client, clock, odd):
    # float() reads each of these, and max(nan, ...) is nan: a pause of nan waits for nothing.
    limited = reply(
        429, {"retry_after": odd}, headers={"Retry-After": odd, "X-RateLimit-Reset": odd}
    )
    api = FakeApi().on("GET", GET_PATH, limited, limited, reply(200, ORDER))
    client = make_client(api, rng=random.Random(3))
    assert client.get_order(1) == ORDER
    assert len(clock.sleeps) == 2 and all(s >= 0.1 for s in clock.sleeps), clock.sleeps


def test_retry_after_zero_does_not_retry_in_a_tight_loop(make_client, clock):
    zero = reply(429, headers={"Retry-After": "0"})
    api = FakeApi().on("GET", GET_PATH, zero, zero, zero, reply(200, ORDER))
    client = make_client(api, rng=random.Random(3))
    assert client.get_order(1) == ORDER
    assert len(api.requests) == 4
    assert len(clock.sleeps) == 3 and all(s >= 0.1 for s in clock.sleeps)
    assert clock.now >= 0.3


@pytest.mark.parametrize("exc_type", [httpx.UnsupportedProtocol, httpx.InvalidURL])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_configuration_errors_fail_at_once(make_client, clock, exc_type, method):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise exc_type("Request URL has an unsupported protocol 'ftp://'.")

    api = FakeApi().on(method, GET_PATH if method == "GET" else POST_PATH, refuse)
    client = make_client(api)
    with pytest.raises(errors.TransportError, match="not retried") as caught:
        client.get_order(1) if method == "GET" else client.charge_balance(1)
    assert not isinstance(caught.value, errors.WriteOutcomeUnknown)
    assert len(api.requests) == 1 and clock.sleeps == []


@pytest.mark.parametrize(
    "base_url", ["ftp://stoq.test/api", "stoq.test/api/v2/external", "https://", "http:///x", ""]
)
def test_a_base_url_without_http_scheme_or_host_is_refused_up_front(base_url):
    with pytest.raises(errors.ConfigurationError, match="base_url .* must be an http:// or https"):
        StoqClient("stoq_api_key_x", base_url)


def test_a_good_base_url_keeps_its_path_without_the_trailing_slash():
    with StoqClient("stoq_api_key_x", "http://127.0.0.1:8000/api/v2/external/") as client:
        assert client.base_url == "http://127.0.0.1:8000/api/v2/external"
