"""Fakes for the client tests: a clock that never sleeps and small hand-written STOQ servers."""

from __future__ import annotations

import json
import math
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from stoq import StoqClient

API_KEY = "stoq_api_key_" + "s3cr3t" * 5 + "xy"  # 32 chars after the prefix, like the docs
BASE_URL = "https://stoq.test/api/v2/external"
API = "/api/v2/external"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """monotonic/time/sleep where sleeping only moves the clock forward."""

    def __init__(self, epoch: float = 1_750_000_000.0) -> None:
        self._lock = threading.Lock()
        self.now = 0.0
        self.epoch = epoch
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def time(self) -> float:
        with self._lock:
            return self.epoch + self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(seconds, 0.0)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def reply(
    status: int = 200,
    json_body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> Handler:
    """A handler building a fresh response each time it is called."""

    def handle(request: httpx.Request) -> httpx.Response:
        if content is not None:
            return httpx.Response(status, content=content, headers=headers)
        return httpx.Response(status, json=json_body, headers=headers)

    return handle


def fail(exc_type: type[httpx.TransportError], message: str = "boom") -> Handler:
    """A handler raising a transport error, as a dropped connection or timeout would."""

    def handle(request: httpx.Request) -> httpx.Response:
        raise exc_type(message, request=request)

    return handle


class FakeApi:
    """Canned answers per (method, path); the last answer of each route repeats.

    Unknown routes answer the documented dispatcher 404. Every request is recorded.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.routes: dict[tuple[str, str], deque[Handler]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *handlers: Handler) -> FakeApi:
        self.routes[(method, API + path)] = deque(handlers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            queue = self.routes.get((request.method, request.url.path))
            handler = None
            if queue:
                handler = queue.popleft() if len(queue) > 1 else queue[0]
        if handler is None:
            text = f"No v2 action registered for {request.method} {request.url.path}"
            return httpx.Response(404, json={"errors": [text]})
        return handler(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        content = self.requests[index].content
        return json.loads(content) if content else None


class PagedApi:
    """A list endpoint over `records` with STOQ's page envelope and knobs for odd servers.

    max_per_page clamps silently (meta echoes the value used); reject_above answers 422
    instead; keep(record) filters after slicing, as STOQ's `state` filter does; on_page runs
    before a page is served (to add records mid-walk).
    """

    def __init__(
        self,
        records: list[dict[str, Any]],
        list_key: str = "orders",
        *,
        max_per_page: int = 100,
        default_per_page: int = 25,
        reject_above: int | None = None,
        keep: Callable[[dict[str, Any]], bool] | None = None,
        on_page: Callable[[PagedApi, int], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.records = records
        self.list_key = list_key
        self.max_per_page = max_per_page
        self.default_per_page = default_per_page
        self.reject_above = reject_above
        self.keep = keep
        self.on_page = on_page
        self.served: list[tuple[int, int | None]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        page = int(params.get("page", "1"))
        asked = int(params["per_page"]) if "per_page" in params else None
        with self._lock:
            self.served.append((page, asked))
            if self.reject_above is not None and asked is not None and asked > self.reject_above:
                return httpx.Response(422, json={"errors": ["per_page must be <= 25"]})
            if self.on_page is not None:
                self.on_page(self, page)
            size = min(asked or self.default_per_page, self.max_per_page)
            total = len(self.records)
            items = self.records[(page - 1) * size : page * size]
        if self.keep is not None:
            items = [r for r in items if self.keep(r)]
        meta = {
            "total_count": total,
            "page": page,
            "per_page": size,
            "total_pages": max(1, math.ceil(total / size)),
        }
        return httpx.Response(200, json={self.list_key: items, "meta": meta})


def orders(n: int, start: int = 1000) -> list[dict[str, Any]]:
    """n order records, newest (highest id) first."""
    return [
        {"id": i, "shopify_order_id": i, "state": "placed" if i % 3 else "released"}
        for i in range(start + n - 1, start - 1, -1)
    ]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., StoqClient]]:
    """Build clients over a handler with the fake clock; closes them after the test."""
    made: list[StoqClient] = []

    def make(handler: Handler, **kwargs: Any) -> StoqClient:
        options: dict[str, Any] = {
            "sleep": clock.sleep,
            "clock": clock.monotonic,
            "wall_clock": clock.time,
        }
        options.update(kwargs)
        client = StoqClient(API_KEY, BASE_URL, transport=httpx.MockTransport(handler), **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
