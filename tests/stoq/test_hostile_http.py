"""The client against a hostile server over a real loopback socket (issue 9, points 1, 2, 5, 7).

Times are asserted generously (a hang fails the test, a slow machine does not): behaviour, not
speed.
"""

from __future__ import annotations

import dataclasses
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import SandboxConfig, Shop
from stoq import StoqClient, errors
from stoq.redact import PUBLIC_PREFIX
from tests.hostile import Answer, Exchange, HostileServer

KEY = PUBLIC_PREFIX + "CANARYq7Wm2Zp9Lx4Rt8Vb3Nc6Hd5Jk1"
SECRET = KEY.removeprefix(PUBLIC_PREFIX)
HANG = 10.0  # seconds: any case here taking longer is a hang
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def shop() -> Shop:
    return Shop(SandboxConfig(api_keys=(KEY,), orders=20, offers=2))


def always(answer: Answer) -> Any:
    """A fault answering every request with a fresh copy of `answer`."""

    def fault(ex: Exchange) -> Answer:
        return dataclasses.replace(answer, headers=dict(answer.headers))

    return fault


def client_for(server: HostileServer, **kwargs: Any) -> StoqClient:
    return StoqClient(KEY, server.base_url, **{"max_retries": 0, **kwargs})


def timed(call: Any) -> tuple[BaseException, float]:
    """The StoqError `call()` raises and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(errors.StoqError) as info:
        call()
    return info.value, time.monotonic() - started


# -- 1. the key goes over https only, except to loopback --------------------------------------


@pytest.mark.parametrize(
    "base_url",
    [
        "http://shop.example/api/v2/external",
        "http://127.0.0.1.nip.io/api/v2/external",
        "http://localhost.evil.example/api",
        "http://localhost./api",  # a fully qualified name: resolved by DNS, not /etc/hosts
        "http://10.0.0.8:8080/api",
        "http://[::2]/api",
    ],
)
def test_plain_http_to_a_host_off_this_machine_is_refused_naming_the_rule(base_url):
    for transport in (None, httpx.HTTPTransport()):
        with pytest.raises(errors.ConfigurationError) as info:
            StoqClient(KEY, base_url, transport=transport)
        assert isinstance(info.value, ValueError)  # callers catching ValueError keep working
        text = str(info.value)
        assert "sends the API key in clear: use https://" in text
        assert "127.0.0.0/8, ::1 or localhost" in text


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8000/api",
        "http://127.8.9.10/api",
        "http://[::1]:8000/api",
        "http://localhost:8000/api",
        "http://LocalHost/api",
        "https://shop.example/api/v2/external",
    ],
)
def test_https_and_plain_http_to_loopback_are_accepted(base_url):
    with StoqClient(KEY, base_url) as client:
        assert client.base_url == base_url


def test_a_transport_of_the_callers_own_sends_nothing_over_a_network_so_http_is_allowed():
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    with StoqClient(KEY, "http://sandbox.test/api/v2/external", transport=transport) as client:
        assert client.help() == {}


def test_credentials_in_a_refused_base_url_are_not_echoed():
    with pytest.raises(errors.ConfigurationError) as info:
        StoqClient(KEY, "http://admin:hunter2secret@shop.example/api")
    assert "hunter2" not in str(info.value) and "shop.example/api" in str(info.value)


@pytest.mark.parametrize(
    "setting",
    [{"deadline": 0}, {"deadline": -1.0}, {"max_body_bytes": 0}, {"max_body_bytes": 1.5}],
)
def test_unusable_limits_are_refused_before_any_request(setting):
    with pytest.raises(errors.ConfigurationError, match=next(iter(setting))):
        StoqClient(KEY, "https://shop.example/api", **setting)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_and_the_key_never_reaches_its_target(shop, status):
    seen: list[dict[str, str]] = []

    def record(ex: Exchange) -> Answer:
        seen.append(ex.headers)
        return Answer.of_json(200, {"stolen": True})

    with HostileServer(shop, record) as elsewhere:
        moved = Answer(status, b"", {"Location": elsewhere.base_url + "/help"})
        with HostileServer(shop, always(moved)) as server, client_for(server) as client:
            error, _ = timed(client.help)
    assert isinstance(error, errors.ApiError)
    assert error.status == status
    assert seen == [] and elsewhere.requests == []


# -- 2. a total deadline and a body size cap per attempt --------------------------------------


def test_a_dripped_body_stops_at_the_deadline(shop):
    drip = Answer.of_json(200, {"pad": "x" * 2000}, drip=0.01)  # ~100 bytes/s: ~20 s in all
    with HostileServer(shop, always(drip)) as server, client_for(server, deadline=1.0) as client:
        error, seconds = timed(client.help)
    assert type(error) is errors.TransportError
    assert str(error) == "GET /help: no complete answer within the 1 s deadline (after 1 attempts)"
    assert 0.9 <= seconds < HANG
    assert server.bytes_sent < 1000  # the client left long before the body was out


def test_a_dripped_body_is_retried_then_fails_for_a_read(shop):
    drip = Answer.of_json(200, {"pad": "x" * 2000}, drip=0.01)
    with (
        HostileServer(shop, always(drip)) as server,
        client_for(server, deadline=1.0, max_retries=1) as client,
    ):
        error, seconds = timed(client.help)
    assert "1 s deadline (after 2 attempts)" in str(error)
    assert len(server.requests) == 2
    assert 1.8 <= seconds < 2 * HANG


def test_a_dripped_answer_to_a_write_is_outcome_unknown_and_not_resent(shop):
    drip = Answer.of_json(200, {"pad": "x" * 2000}, drip=0.01)
    with (
        HostileServer(shop, always(drip)) as server,
        client_for(server, deadline=1.0, max_retries=3) as client,
    ):
        error, seconds = timed(lambda: client.release_order(1))
    assert isinstance(error, errors.WriteOutcomeUnknown)
    assert "no complete answer within the 1 s deadline" in error.reason
    assert len(server.requests) == 1 and seconds < HANG


def test_dripped_headers_stop_at_the_deadline_not_at_the_server_s_pleasure(shop):
    # Each byte comes well within the read timeout: only the deadline can end this.
    drip = Answer.of_json(200, {"ok": True}, drip_head=0.05)  # ~90 bytes of head: ~4.5 s
    with (
        HostileServer(shop, always(drip)) as server,
        client_for(server, deadline=1.0, timeout=30.0) as client,
    ):
        error, seconds = timed(client.help)
    assert "no complete answer within the 1 s deadline" in str(error)
    assert 0.9 <= seconds < 2.5
    assert server.bytes_sent < 60  # the client left long before the head was out


@pytest.mark.parametrize("stall", ["before the headers", "mid-body"])
def test_a_silent_server_is_cut_at_the_deadline_not_at_the_read_timeout(shop, stall):
    if stall == "mid-body":
        fault = always(Answer.of_json(200, {"pad": "x" * 100}, drip=30.0))
    else:

        def fault(ex: Exchange) -> Answer:
            time.sleep(3.0)
            return Answer.of_json(200, {})

    with (
        HostileServer(shop, fault) as server,
        client_for(server, deadline=1.0, timeout=30.0) as client,
    ):
        error, seconds = timed(client.help)
    assert "no complete answer within the 1 s deadline" in str(error)
    assert 0.9 <= seconds < 5.0  # the read timeout (30 s) was capped at the deadline


def test_an_endless_body_stops_at_the_size_cap_with_bounded_memory(shop):
    endless = Answer(200, headers={"Content-Type": "application/json"}, endless=True)
    with (
        HostileServer(shop, always(endless)) as server,
        client_for(server, max_body_bytes=MIB, deadline=30.0) as client,
    ):
        tracemalloc.start()
        try:
            error, seconds = timed(client.help)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert str(error) == "GET /help: answer larger than the 1 MiB limit (after 1 attempts)"
    assert seconds < HANG
    assert peak < 8 * MIB
    assert server.bytes_sent < 64 * MIB  # it stopped reading: the server could not go on


def test_an_endless_body_under_a_big_cap_stops_at_the_deadline(shop):
    endless = Answer(200, endless=True)
    with (
        HostileServer(shop, always(endless)) as server,
        client_for(server, max_body_bytes=512 * MIB, deadline=1.0) as client,
    ):
        error, seconds = timed(client.help)
    assert "no complete answer within the 1 s deadline" in str(error)
    assert seconds < HANG


def test_a_declared_length_over_the_cap_is_refused_before_reading(shop):
    big = Answer(200, b"x" * (2 * MIB), {"Content-Type": "application/json"})
    with (
        HostileServer(shop, always(big)) as server,
        client_for(server, max_body_bytes=MIB) as client,
    ):
        error, _ = timed(client.help)
    assert "answer larger than the 1 MiB limit" in str(error)


def test_an_endless_stream_from_a_mock_transport_stops_at_the_cap():
    pulled = 0

    def forever() -> Iterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b" " * 65536

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=forever()))
    with StoqClient(KEY, transport=transport, max_retries=0, max_body_bytes=MIB) as client:
        error, _ = timed(client.help)
    assert "larger than the 1 MiB limit" in str(error)
    assert pulled <= 17


def test_an_answer_to_a_write_over_the_cap_is_outcome_unknown():
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b" " * 5000))
    with StoqClient(KEY, transport=transport, max_body_bytes=4096, max_retries=3) as client:
        error, _ = timed(lambda: client.charge_balance(1))
    assert isinstance(error, errors.WriteOutcomeUnknown)
    assert error.reason == "answer larger than the 4 KiB limit"


def test_a_body_under_the_limits_still_reads(shop):
    with HostileServer(shop) as server, client_for(server, deadline=5.0) as client:
        assert client.get_offer(next(iter(shop.offers)))["id"]


# -- 5. the key is blanked before any text is cut ----------------------------------------------


def chain(error: BaseException) -> list[BaseException]:
    """The error and every exception it was raised from or during: both links of each, since
    `raise ... from cause` inside an except block still keeps the handled one as __context__."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is not None and current not in found:
            found.append(current)
            todo += [current.__cause__, current.__context__]
    return found


def leaks(text: str) -> list[str]:
    """Every 8-character piece of the key's secret found in `text`."""
    return [SECRET[i : i + 8] for i in range(len(SECRET) - 7) if SECRET[i : i + 8] in text]


def assert_nothing_leaks(error: BaseException) -> None:
    for e in chain(error):
        texts = [str(e), repr(e), repr(e.args)]
        texts += [repr(v) for v in vars(e).values()]
        assert not [t for t in texts if leaks(t)], texts
        # An httpx error keeps the request it failed on, headers (and the key) included.
        assert not isinstance(getattr(e, "_request", None), httpx.Request)


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (Answer(500, b"." * 175 + f"token={KEY}".encode()), "token=<redacted>"),
        (Answer(500, b"." * 190 + f"token={KEY}".encode()), "token=<red"),  # cut after blanking
        (Answer(500, b"." * 7990 + f"token={KEY}".encode()), "." * 200),
        (Answer.of_json(401, {"errors": [f"bad {KEY}", "." * 175 + KEY]}), "bad <redacted>"),
        (Answer.of_json(422, {"error": "E", "message": f"key {SECRET[5:17]}!"}), "<redacted>!"),
        (Answer.of_json(503, {"errors": {"token": KEY}}), "{'token': '<redacted>'}"),
        (Answer(200, f"not json {SECRET[3:15]}".encode()), "'not json <redacted>'"),
    ],
    ids=["dots-175", "dots-190", "dots-7990", "json", "v1-piece", "dict", "200-piece"],
)
def test_an_echoed_key_or_piece_of_it_never_leaves_the_client(shop, answer, shown):
    with HostileServer(shop, always(answer)) as server, client_for(server) as client:
        error, _ = timed(client.help)
    assert_nothing_leaks(error)
    assert shown in str(error)
    assert all(len(m) <= 200 for m in getattr(error, "messages", []))


def test_an_echoed_key_in_a_write_error_never_leaves_the_client(shop):
    answer = Answer(502, b"." * 175 + f"token={KEY}".encode())
    with HostileServer(shop, always(answer)) as server, client_for(server) as client:
        error, _ = timed(lambda: client.charge_balance(1))
    assert isinstance(error, errors.WriteOutcomeUnknown)
    assert_nothing_leaks(error)
    assert error.reason.endswith("<redacted>")


@pytest.mark.parametrize("exc_type", [httpx.ReadError, httpx.ConnectError, httpx.InvalidURL])
def test_a_piece_of_the_key_in_a_foreign_error_is_blanked_in_the_whole_chain(exc_type):
    def explode(request: httpx.Request) -> httpx.Response:
        try:
            raise OSError(f"socket says {SECRET[2:14]}")
        except OSError as inner:
            raise exc_type(f"reset while sending {SECRET[4:20]}") from inner

    transport = httpx.MockTransport(explode)
    with StoqClient(KEY, transport=transport, max_retries=0) as client:
        error, _ = timed(client.help)
    assert_nothing_leaks(error)
    assert type(error.__cause__) is exc_type  # still says what failed
    assert len(chain(error)) == 3


def test_a_job_echoing_the_key_fails_without_showing_it():
    failed = {"job_id": f"j-{SECRET[:12]}", "status": "failed", "error": {"detail": f"bad {KEY}"}}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=failed))
    with StoqClient(KEY, transport=transport, sleep=lambda s: None) as client:
        error, _ = timed(lambda: client.wait_for_job("/api/v2/external/jobs/j1"))
        assert isinstance(error, errors.JobFailed)
        assert_nothing_leaks(error)
        assert not leaks(repr(error.status)) and "<redacted>" in str(error)
        bad_url = f"jobs/{SECRET}"  # neither absolute nor host-relative: malformed, quoted
        error, _ = timed(lambda: client.job_status(bad_url))
        assert isinstance(error, errors.MalformedResponse)
        assert_nothing_leaks(error)


def test_a_status_url_echoing_the_key_is_not_quoted_in_errors():
    transport = httpx.MockTransport(lambda request: httpx.Response(503, json={"errors": ["busy"]}))
    with StoqClient(KEY, transport=transport, sleep=lambda s: None, max_retries=1) as client:
        error, _ = timed(lambda: client.job_status(f"/api/v2/external/jobs/{SECRET}"))
    assert isinstance(error, errors.ServerError)
    assert_nothing_leaks(error)
    assert error.path == "https://app.stoqapp.com/api/v2/external/jobs/<redacted>"
