"""stoq.deadline: the default transport cuts socket waits at the deadline, unless a proxy is set."""

from __future__ import annotations

import httpcore
import httpx
import pytest

from stoq import StoqClient
from stoq.deadline import DeadlineBackend, deadline_transport, until

KEY = "stoq_api_key_" + "p" * 32
BASE_URL = "https://stoq.test/api/v2/external"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_without_a_proxy_connections_go_through_the_deadline_backend(no_proxy) -> None:
    made = deadline_transport(httpx.Limits())
    assert made is not None and isinstance(made._pool._network_backend, DeadlineBackend)


def test_a_proxy_in_the_environment_is_still_used(no_proxy) -> None:
    no_proxy.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    assert deadline_transport(httpx.Limits()) is None
    with StoqClient(KEY, BASE_URL) as client:
        mounts = client._session._http._mounts  # httpx's own proxy transport, as without us
    assert any(t is not None for t in mounts.values())


def test_a_step_that_starts_past_the_deadline_fails_at_once() -> None:
    with until(0.0), pytest.raises(httpcore.ConnectTimeout):
        DeadlineBackend().connect_tcp("127.0.0.1", 9, timeout=30)  # never dialled
