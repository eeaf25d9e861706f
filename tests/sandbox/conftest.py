"""Fixtures: a seeded shop on a fake clock and plain httpx clients over mock_transport."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from sandbox import BASE_PATH, DEFAULT_API_KEY, FakeClock, SandboxConfig, Shop, mock_transport

ORIGIN = "http://sandbox.test"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_shop(clock: FakeClock) -> Callable[..., Shop]:
    """A Shop factory; rate limits are huge unless a test asks otherwise."""

    def make(**overrides) -> Shop:
        overrides.setdefault("rate_limit_points", 1_000_000)
        return Shop(SandboxConfig(**overrides), clock=clock)

    return make


@pytest.fixture
def shop(make_shop) -> Shop:
    return make_shop()


@pytest.fixture
def make_client() -> Iterator[Callable[..., httpx.Client]]:
    """httpx.Client factory over mock_transport; every client is closed at teardown."""
    made: list[httpx.Client] = []

    def make(shop: Shop, key: str | None = DEFAULT_API_KEY) -> httpx.Client:
        headers = {"X-Auth-Token": key} if key else {}
        client = httpx.Client(
            transport=mock_transport(shop), base_url=ORIGIN + BASE_PATH, headers=headers
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def api(shop, make_client) -> httpx.Client:
    return make_client(shop)
