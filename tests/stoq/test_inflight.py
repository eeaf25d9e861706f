"""The in-flight gate: grows while answers are slow and points are left, halves on trouble,
stays under its ceiling and the budget; and a slow sandbox walk really overlaps more."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

import sandbox
from sandbox.clock import FAKE_EPOCH
from stoq import StoqClient
from stoq.inflight import Closed, Inflight
from stoq.ratelimit import RateBudget

from .conftest import FakeClock


class Counter:
    """A `trouble()` count the test raises by hand (429s, 5xx, timeouts)."""

    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        return self.value


def round_trip(gate: Inflight, clock: FakeClock, latency: float) -> None:
    """Fill the gate, let `latency` pass, and empty it: one round trip at the current limit."""
    entered = [gate.enter() for _ in range(gate.free())]
    clock.advance(latency)
    for at in entered:
        gate.leave(at)


def test_grows_while_answers_are_slow_and_points_are_left_up_to_the_ceiling():
    clock = FakeClock()
    gate = Inflight(4, 16, clock=clock.monotonic, room=lambda: 360)
    limits = []
    for _ in range(4):
        round_trip(gate, clock, 0.3)
        limits.append(gate.limit)
    assert limits == [8, 16, 16, 16]  # doubling per round trip, then the ceiling
    assert gate.peak == 16


def test_stays_at_the_floor_when_answers_are_fast_or_no_points_are_left():
    clock = FakeClock()
    fast = Inflight(4, 16, clock=clock.monotonic, room=lambda: 360)
    spent = Inflight(4, 16, clock=clock.monotonic, room=lambda: 0)
    for _ in range(5):
        round_trip(fast, clock, 0.001)
        round_trip(spent, clock, 0.3)
    assert (fast.limit, fast.peak) == (4, 4)
    assert (spent.limit, spent.peak) == (4, 4)  # the floor goes out; the budget holds it back


def test_never_lets_more_out_than_the_budget_has_points_for():
    clock = FakeClock()
    budget = RateBudget(10, 60.0, clock=clock.monotonic, sleep=clock.sleep, wall_clock=clock.time)
    gate = Inflight(1, 16, clock=clock.monotonic, room=budget.points_left)
    for _ in range(3):
        round_trip(gate, clock, 0.3)
    assert gate.limit == 8
    for _ in range(7):  # spends of an earlier walk, still in the window
        budget.settle(budget.acquire(1))
    sent = 0
    while gate.free() > 0:  # what a walk does: each request through the gate, then the budget
        gate.enter()
        budget.acquire(1)
        sent += 1
    assert sent == 3 == gate.out
    assert budget.points_left() == 0
    assert clock.sleeps == []  # no request had to wait in the budget


def test_halves_on_trouble_never_below_the_floor_then_grows_by_one_per_round_trip():
    clock = FakeClock()
    trouble = Counter()
    gate = Inflight(4, 16, clock=clock.monotonic, room=lambda: 360, trouble=trouble)
    round_trip(gate, clock, 0.3)
    round_trip(gate, clock, 0.3)
    assert gate.limit == 16
    trouble.value += 3  # a burst of 429s: one halving per rise seen
    round_trip(gate, clock, 0.001)
    assert gate.limit == 8
    trouble.value += 1
    round_trip(gate, clock, 0.001)
    assert gate.limit == 4
    trouble.value += 1
    round_trip(gate, clock, 0.001)
    assert gate.limit == 4  # the floor
    round_trip(gate, clock, 0.3)
    assert gate.limit == 5  # additive now: four answers of 1/4 each


def test_enter_waits_for_a_place_while_the_gate_is_full():
    clock = FakeClock()
    gate = Inflight(2, 2, clock=clock.monotonic)
    first = [gate.enter(), gate.enter()]
    assert gate.free() == 0
    entered = threading.Event()
    waiter = threading.Thread(target=lambda: (gate.enter(), entered.set()))
    waiter.start()
    assert not entered.wait(0.05)
    gate.leave(first[0])
    assert entered.wait(5)
    waiter.join(5)
    assert gate.out == 2


def test_close_turns_waiting_and_later_enters_away():
    clock = FakeClock()
    gate = Inflight(1, 1, clock=clock.monotonic)
    gate.enter()
    failed = threading.Event()

    def wait_then_fail() -> None:
        try:
            gate.enter()
        except Closed:
            failed.set()

    waiter = threading.Thread(target=wait_then_fail)
    waiter.start()
    gate.close()
    assert failed.wait(5)
    waiter.join(5)
    with pytest.raises(Closed):
        gate.enter()
    assert gate.out == 1


# -- a 100-page walk against the sandbox at 300 ms -------------------------------------------


class FastClock:
    """Real time run `speed` times faster, for the shop and the client alike: the sandbox's
    300 ms pass in 300/speed ms of real time, so the walk overlaps for real yet takes ~0.2 s."""

    def __init__(self, speed: float = 20.0) -> None:
        self.speed = speed
        self._start = time.monotonic()

    def monotonic(self) -> float:
        return (time.monotonic() - self._start) * self.speed

    def time(self) -> float:
        return FAKE_EPOCH + self.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.speed)


class Concurrent(httpx.BaseTransport):
    """Counts the requests inside the wrapped transport at once: what the server sees."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self.now = self.peak = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            return self.inner.handle_request(request)
        finally:
            with self._lock:
                self.now -= 1


def slow_walk(**options: int) -> tuple[list[int], StoqClient, Concurrent, sandbox.Shop, int]:
    clock = FastClock()
    config = sandbox.SandboxConfig(orders=5_000, latency_ms=300)  # 360 points / 60 s, fresh
    shop = sandbox.Shop(config, clock=clock)
    transport = Concurrent(sandbox.mock_transport(shop))
    client = StoqClient(
        sandbox.DEFAULT_API_KEY, "http://sandbox.test" + sandbox.BASE_PATH, transport=transport,
        per_page=50, sleep=clock.sleep, clock=clock.monotonic, wall_clock=clock.time, **options,
    )  # fmt: skip
    with client:
        walk = client.list_orders()
        seen = [o["shopify_order_id"] for o in walk]
    assert walk.stats.pages == walk.stats.total_pages == 100
    return seen, client, transport, shop, walk.peak_in_flight


def test_a_slow_100_page_walk_keeps_more_than_4_in_flight_without_a_429():
    seen, client, transport, shop, peak = slow_walk()
    assert len(seen) == len(set(seen)) == 5_000
    assert 4 < peak <= 16
    assert 4 < transport.peak <= 16  # as the server saw it
    assert client.stats.snapshot().rate_limited == 0
    assert [e for e in shop.log if e["status"] == 429] == []


def test_max_concurrency_equal_to_concurrency_keeps_the_old_fixed_width():
    seen, _, transport, _, peak = slow_walk(concurrency=4, max_concurrency=4)
    assert len(set(seen)) == 5_000
    assert peak == transport.peak == 4


def test_the_ceiling_comes_from_stoq_max_concurrency(monkeypatch):
    from preorders.settings import StoqSettings

    key = sandbox.DEFAULT_API_KEY
    assert StoqSettings.from_env(key).max_concurrency == 16
    monkeypatch.setenv("STOQ_MAX_CONCURRENCY", "8")
    with StoqSettings.from_env(key).client() as client:
        assert (client.concurrency, client.max_concurrency) == (4, 8)
    with StoqSettings.from_env(key, max_concurrency=2).client() as client:
        assert client.max_concurrency == 4  # never below `concurrency`, where a walk starts


def test_shrink_goes_back_to_the_floor_and_then_grows_one_per_round_trip():
    """A walk that meets an empty page (the end, or a lying count) stops fetching wide."""
    clock = FakeClock()
    gate = Inflight(4, 16, clock=clock.monotonic, room=lambda: 360)
    for _ in range(2):
        round_trip(gate, clock, 0.3)
    assert gate.limit == 16
    gate.shrink()
    assert (gate.limit, gate.free()) == (4, 4)
    round_trip(gate, clock, 0.3)
    assert gate.limit == 5  # no more doubling: one per round trip


def test_warm_opens_to_the_ceiling_after_a_slow_first_page_within_the_budget():
    clock = FakeClock()
    slow = Inflight(4, 16, clock=clock.monotonic, room=lambda: 360)
    slow.warm(0.3)
    assert (slow.limit, slow.free()) == (16, 16)
    short = Inflight(4, 16, clock=clock.monotonic, room=lambda: 10)
    short.warm(0.3)
    assert (short.limit, short.free()) == (10, 10)  # only as wide as the budget has points for
    spent = Inflight(4, 16, clock=clock.monotonic, room=lambda: 1)
    spent.warm(0.3)
    assert spent.limit == 4  # a budget nearly spent: the floor, as ever
    fast = Inflight(4, 16, clock=clock.monotonic, room=lambda: 360)
    fast.warm(0.001)
    assert (fast.limit, fast.free()) == (4, 4)  # a fast server: start at the floor as ever


def test_warm_keeps_the_floor_when_page_1_was_slow_because_of_trouble():
    clock, trouble = FakeClock(), Counter()
    gate = Inflight(4, 16, clock=clock.monotonic, room=lambda: 360, trouble=trouble)
    trouble.value += 1  # page 1 met a 503 (or a 429, a timeout) and was retried after a backoff
    gate.warm(0.4)
    assert gate.limit == 4


class FirstWave(Concurrent):
    """Also notes how many requests were out at once before the second answer came back (the
    first is page 1's): the width the walk opened with."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        super().__init__(inner)
        self.answered = self.first_wave = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self.answered <= 1:
                self.first_wave = max(self.first_wave, self.now + 1)
        try:
            return super().handle_request(request)
        finally:
            with self._lock:
                self.answered += 1


def test_a_slow_first_page_sends_the_next_pages_out_at_the_ceiling_at_once():
    clock = FastClock(speed=3.0)  # 100 ms of real time per answer: all 16 leave before one is back
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=5_000, latency_ms=300), clock=clock)
    transport = FirstWave(sandbox.mock_transport(shop))
    client = StoqClient(
        sandbox.DEFAULT_API_KEY, "http://sandbox.test" + sandbox.BASE_PATH, transport=transport,
        per_page=50, sleep=clock.sleep, clock=clock.monotonic, wall_clock=clock.time,
    )  # fmt: skip
    with client:
        seen = [o["shopify_order_id"] for o in client.list_orders()]
    assert len(set(seen)) == 5_000
    assert transport.first_wave == 16  # not 4, 8, 16 round trip after round trip
    assert [e for e in shop.log if e["status"] == 429] == []
