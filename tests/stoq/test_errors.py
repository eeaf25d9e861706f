"""Error statuses map onto the documented tree; messages are useful and never hold the key."""

from __future__ import annotations

import httpx
import pytest

from stoq import StoqClient, errors

from .conftest import API_KEY, BASE_URL, FakeApi, fail, reply

ORDER_PATH = "/preorders/orders/1"


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, errors.ValidationError),
        (401, errors.Unauthorized),
        (403, errors.ApiError),
        (404, errors.NotFound),
        (409, errors.Conflict),
        (422, errors.ValidationError),
    ],
)
def test_client_errors_raise_their_class_without_retry(make_client, status, error_class):
    api = FakeApi().on("GET", ORDER_PATH, reply(status, {"errors": ["nope", "second"]}))
    client = make_client(api)
    with pytest.raises(error_class) as info:
        client.get_order(1)
    error = info.value
    assert type(error) is error_class
    assert (error.method, error.path, error.status) == ("GET", ORDER_PATH, status)
    assert error.messages == ["nope", "second"]
    assert str(error) == f"GET {ORDER_PATH} -> {status}: nope; second"
    assert len(api.requests) == 1
    assert client.stats.snapshot().retries == 0


def test_conflict_carries_the_unblock_hint(make_client):
    hint = "Cannot release order 1: balance not collected. Charge the balance or pass force: true."
    api = FakeApi().on("POST", f"{ORDER_PATH}/release", reply(409, {"errors": [hint]}))
    with pytest.raises(errors.Conflict) as info:
        make_client(api).release_order(1)
    assert info.value.hint == hint
    assert len(api.requests) == 1


def test_v1_error_body_is_understood(make_client):
    body = {"error": "Validation errors", "message": "mode must be one of: auto, manual"}
    api = FakeApi().on("POST", f"{ORDER_PATH}/release", reply(422, body))
    with pytest.raises(errors.ValidationError, match="mode must be one of"):
        make_client(api).release_order(1)


def test_non_json_error_body_is_quoted(make_client):
    api = FakeApi().on("GET", ORDER_PATH, reply(404, content=b"<html>gone</html>"))
    with pytest.raises(errors.NotFound, match="<html>gone</html>"):
        make_client(api).get_order(1)


def test_unregistered_route_is_not_found(make_client):
    with pytest.raises(errors.NotFound, match="No v2 action registered"):
        make_client(FakeApi()).get_offer("nope")


def test_server_error_after_retries(make_client):
    api = FakeApi().on("GET", ORDER_PATH, reply(503, {"errors": ["maintenance"]}))
    with pytest.raises(errors.ServerError, match="503: maintenance"):
        make_client(api, max_retries=2).get_order(1)
    assert len(api.requests) == 3


def test_rate_limited_after_retries(make_client):
    api = FakeApi().on("GET", ORDER_PATH, reply(429, headers={"Retry-After": "1"}))
    with pytest.raises(errors.RateLimited) as info:
        make_client(api, max_retries=1).get_order(1)
    assert info.value.retry_after == 1.0
    assert len(api.requests) == 2


def test_transport_error_after_retries_chains_the_cause(make_client):
    api = FakeApi().on("GET", ORDER_PATH, fail(httpx.ReadTimeout, "read timed out"))
    with pytest.raises(errors.TransportError, match="ReadTimeout: read timed out") as info:
        make_client(api, max_retries=1).get_order(1)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize("content", [b'{"id": 1, "sta', b"<html>maintenance</html>", b"[" * 99_999])
def test_a_2xx_that_is_not_json_after_retries_is_malformed_not_unreachable(make_client, content):
    api = FakeApi().on("GET", ORDER_PATH, reply(200, content=content))
    with pytest.raises(errors.MalformedResponse) as info:
        make_client(api, max_retries=1).get_order(1)
    assert str(info.value).startswith(f"malformed response from STOQ: GET {ORDER_PATH}: ")
    assert "(after 2 attempts)" in str(info.value)
    assert not isinstance(info.value, errors.TransportError)
    assert isinstance(info.value.__cause__, ValueError)
    assert len(api.requests) == 2


def test_a_2xx_that_is_not_json_after_a_write_is_outcome_unknown(make_client):
    api = FakeApi().on("POST", f"{ORDER_PATH}/release", reply(200, content=b'{"id": 1, "sta'))
    with pytest.raises(errors.WriteOutcomeUnknown, match="not JSON"):
        make_client(api).release_order(1)
    assert len(api.requests) == 1


@pytest.mark.parametrize("exc_type", [httpx.ConnectError, httpx.ConnectTimeout])
def test_no_connection_after_retries_is_unreachable(make_client, exc_type):
    api = FakeApi().on("GET", ORDER_PATH, fail(exc_type, "[Errno 111] Connection refused"))
    with pytest.raises(errors.Unreachable, match="Connection refused .after 2 attempts"):
        make_client(api, max_retries=1).get_order(1)


def test_an_answer_broken_off_is_a_transport_error_not_unreachable(make_client):
    api = FakeApi().on(
        "GET",
        ORDER_PATH,
        fail(httpx.ConnectError, "refused"),
        fail(httpx.RemoteProtocolError, "peer closed connection"),
    )
    with pytest.raises(errors.TransportError, match="peer closed") as info:
        make_client(api, max_retries=1).get_order(1)
    assert not isinstance(info.value, errors.Unreachable)  # the last failure decides


def test_wrong_shape_is_malformed(make_client):
    api = FakeApi().on("GET", ORDER_PATH, reply(200, [1, 2]))
    with pytest.raises(errors.MalformedResponse):
        make_client(api).get_order(1)


def test_write_outcome_unknown_names_method_and_path(make_client):
    api = FakeApi().on("POST", f"{ORDER_PATH}/payments/charge_balance", reply(502))
    with pytest.raises(errors.WriteOutcomeUnknown) as info:
        make_client(api).charge_balance(1)
    assert info.value.method == "POST"
    assert info.value.path == f"{ORDER_PATH}/payments/charge_balance"
    assert "re-read state" in str(info.value)
    assert isinstance(info.value.__cause__, errors.ServerError)


@pytest.mark.parametrize(
    "error_class",
    [
        errors.ApiError,
        errors.TransportError,
        errors.Unreachable,
        errors.MalformedResponse,
        errors.JobError,
        errors.ConfigurationError,
    ],
)
def test_every_error_is_a_stoq_error(error_class):
    assert issubclass(error_class, errors.StoqError)
    for job_error in (errors.JobFailed, errors.JobCancelled, errors.JobTimeout, errors.JobNotFound):
        assert issubclass(job_error, errors.JobError)


def test_empty_key_is_rejected():
    for key in ("", "   "):
        with pytest.raises(ValueError, match="api_key"):
            StoqClient(key)


def test_key_never_leaks_into_repr_or_errors(make_client):
    echo = {"errors": [f"bad token {API_KEY}"]}
    api = (
        FakeApi()
        .on("GET", ORDER_PATH, reply(401, echo))
        .on("GET", "/preorders/orders/2", fail(httpx.ConnectError, f"cannot reach {API_KEY}"))
    )
    client = make_client(api, max_retries=0)
    seen: list[str] = [repr(client), repr(client.stats), repr(client._session)]
    seen.append(repr(client._session._auth))
    for call in (lambda: client.get_order(1), lambda: client.get_order(2)):
        with pytest.raises(errors.StoqError) as info:
            call()
        seen += [str(info.value), repr(info.value), repr(info.value.args)]
    assert api.requests[0].headers["X-Auth-Token"] == API_KEY  # it is sent...
    for text in seen:
        assert API_KEY not in text  # ...and shown nowhere
    assert "<redacted>" in seen[-3]


def test_key_not_sent_to_another_origin(make_client):
    api = FakeApi()
    client = make_client(api)
    with pytest.raises(errors.JobNotFound):
        client.job_status("https://elsewhere.example/api/v2/external/jobs/x")
    assert "X-Auth-Token" not in api.last.headers
    assert BASE_URL.startswith("https://stoq.test")
