"""The client-side budget: STOQ's points per rolling window, shared, corrected by the server."""

from __future__ import annotations

import threading
from collections import deque

import httpx
import pytest

from stoq.ratelimit import RateBudget, cost_of

from .conftest import FakeClock, PagedApi, fail, orders, reply


class SlidingWindowServer:
    """Wraps a handler with STOQ's limiter: 429 when a request would exceed the rolling window."""

    def __init__(self, handler, clock: FakeClock, limit: int = 360, window: float = 60.0):
        self._lock = threading.Lock()
        self.handler = handler
        self.clock = clock
        self.limit = limit
        self.window = window
        self.spent: deque[tuple[float, int]] = deque()
        self.rejected = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        cost = 1 if request.method == "GET" else 2
        with self._lock:
            now = self.clock.monotonic()
            while self.spent and self.spent[0][0] <= now - self.window:
                self.spent.popleft()
            used = sum(c for _, c in self.spent)
            if used + cost > self.limit:
                self.rejected += 1
                wait = self.spent[0][0] + self.window - now
                return httpx.Response(429, headers={"Retry-After": f"{wait:.3f}"})
            self.spent.append((now, cost))
        return self.handler(request)


def make_budget(clock: FakeClock, limit: int = 360, window: float = 60.0) -> RateBudget:
    return RateBudget(
        limit, window, clock=clock.monotonic, sleep=clock.sleep, wall_clock=clock.time
    )


def test_costs_follow_the_docs():
    assert [cost_of(m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")] == [1, 2, 2, 2, 2]


def test_full_window_waits_for_the_oldest_spend(clock):
    budget = make_budget(clock, limit=10, window=60.0)
    for _ in range(10):
        budget.settle(budget.acquire(1))
        clock.advance(1.0)
    assert clock.sleeps == []
    ticket = budget.acquire(1)
    assert clock.now == pytest.approx(60.0)  # the first spend (t=0) left the window
    assert ticket.waited == pytest.approx(50.0)


def test_writes_cost_two_points(clock):
    budget = make_budget(clock, limit=10)
    for _ in range(5):
        budget.settle(budget.acquire(2))
    assert budget.used() == 10
    budget.acquire(1)
    assert clock.now == pytest.approx(60.0)


def test_never_exceeds_the_window_under_concurrency(clock):
    budget = make_budget(clock, limit=50, window=10.0)
    spends: list[tuple[float, int]] = []
    lock = threading.Lock()

    def worker(cost: int) -> None:
        for _ in range(40):
            ticket = budget.acquire(cost)
            with lock:
                spends.append((ticket.acquired_at, ticket.cost))
            budget.settle(ticket)

    threads = [threading.Thread(target=worker, args=(1 + i % 2,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(spends) == 320
    for start, _ in spends:
        in_window = sum(c for t, c in spends if start <= t < start + 10.0)
        assert in_window <= 50


def test_server_remaining_is_believed_until_its_reset(clock):
    budget = make_budget(clock, limit=360)
    budget.settle(budget.acquire(1))
    reset = str(int(clock.time()) + 30)
    budget.observe({"x-ratelimit-remaining": "10", "x-ratelimit-reset": reset})
    for _ in range(10):
        budget.settle(budget.acquire(1))
    assert clock.now == 0.0
    budget.acquire(1)
    assert clock.now == pytest.approx(30.0)


def test_server_remaining_above_ours_changes_nothing(clock):
    budget = make_budget(clock, limit=10)
    budget.observe({"x-ratelimit-remaining": "360", "x-ratelimit-limit": "360"})
    assert budget.limit == 10
    assert budget.used() == 0


def test_a_lower_server_limit_is_adopted(clock):
    budget = make_budget(clock, limit=360)
    budget.observe({"x-ratelimit-limit": "100", "x-ratelimit-remaining": "100"})
    assert budget.limit == 100


def test_a_skewed_reset_never_blocks_past_the_window(clock):
    budget = make_budget(clock, limit=10, window=60.0)
    far = str(int(clock.time()) + 3600)
    budget.observe({"x-ratelimit-remaining": "0", "x-ratelimit-reset": far})
    budget.acquire(1)
    assert clock.now == pytest.approx(60.0)


@pytest.mark.parametrize("odd", ["nan", "inf", "-inf", "NaN"])
def test_headers_that_are_not_finite_numbers_are_ignored(clock, odd):
    budget = make_budget(clock, limit=10)
    budget.observe(
        {"x-ratelimit-limit": odd, "x-ratelimit-remaining": odd, "x-ratelimit-reset": odd}
    )
    assert (budget.limit, budget.used()) == (10, 0)
    budget.observe({"x-ratelimit-remaining": "0", "x-ratelimit-reset": odd})  # reset unknown
    budget.acquire(1)
    assert clock.now == pytest.approx(60.0)  # believed for a whole window


def test_client_honours_server_remaining(make_client, clock):
    reset = clock.time() + 30
    served = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal served
        served += 1
        headers = {
            "X-RateLimit-Limit": "360",
            "X-RateLimit-Remaining": str(max(0, 11 - served)),  # 10 left after the first
            "X-RateLimit-Reset": str(int(reset)),
        }
        return httpx.Response(200, json={"id": 1}, headers=headers)

    client = make_client(handler)
    for _ in range(11):
        client.get_order(1)
    assert clock.now == 0.0
    client.get_order(1)
    assert clock.now == pytest.approx(30.0)
    assert client.stats.snapshot().budget_waits == 1


def test_steady_state_uses_the_rate_without_429s(make_client, clock):
    """1,000 GETs at 360/60 s need (1000 - 360) / 6 = 106.7 s at best; stay within 1.15x."""
    server = SlidingWindowServer(PagedApi(orders(10_000), max_per_page=10), clock)
    client = make_client(server, concurrency=1, per_page=10)
    walk = client.list_orders()
    assert sum(1 for _ in walk) == 10_000
    ideal = (1000 - 360) * 60.0 / 360
    assert server.rejected == 0
    assert client.stats.snapshot().rate_limited == 0
    assert ideal <= clock.now <= 1.15 * ideal


def test_concurrent_walk_provokes_no_429s(make_client, clock):
    server = SlidingWindowServer(PagedApi(orders(5_000), max_per_page=10), clock, limit=60)
    client = make_client(server, concurrency=4, per_page=10, points_per_window=60)
    ids = [o["id"] for o in client.list_orders()]
    assert len(ids) == len(set(ids)) == 5_000
    assert server.rejected == 0


def test_a_timed_out_request_stays_spent_for_the_window(make_client, clock):
    """The server may have counted a request the client gave up on: its point stays spent."""
    answers = iter([fail(httpx.ReadTimeout, "timed out"), reply(200, {"id": 1})])
    client = make_client(lambda request: next(answers)(request))
    client.get_order(1)
    stats = client.stats.snapshot()
    assert (stats.requests, stats.transport_errors, stats.points) == (2, 1, 2)
    assert client.stats.trouble() == 1  # a timeout tells a walk's gate to slow down
    assert client.rate_room().remaining == 358  # the timed-out attempt counts
    clock.advance(59.0)  # less than a window after either attempt ended (backoff <= 0.5 s)
    assert client.rate_room().remaining == 358
    clock.advance(2.0)
    assert client.rate_room().remaining == 360


def test_points_left_is_the_room_remaining(clock):
    budget = make_budget(clock, limit=10)
    budget.settle(budget.acquire(2))
    budget.observe({"x-ratelimit-remaining": "5"})
    assert budget.points_left() == budget.room().remaining == 5
