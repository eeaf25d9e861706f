"""A walk cannot run away: meta is checked against the count, empty runs end, Ctrl-C is quick."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from stoq.pagination import EMPTY_RUN, MAX_EMPTY_RUN

from .conftest import PagedApi, orders


def lying(inner: PagedApi, change: Callable[[dict[str, Any]], None]) -> Callable[..., Any]:
    """A handler passing every page's meta through `change` (in place)."""

    def handler(request: httpx.Request) -> httpx.Response:
        answer = inner(request)
        body = answer.json()
        change(body["meta"])
        return httpx.Response(answer.status_code, json=body)

    return handler


def ids(records):
    return [r["id"] for r in records]


def test_total_pages_far_above_the_count_is_a_lie_walked_by_the_count(make_client):
    records = orders(95)
    api = PagedApi(records, max_per_page=10)
    handler = lying(api, lambda meta: meta.update(total_pages=1_000_000))
    walk = make_client(handler, per_page=10).list_orders()
    assert ids(walk) == ids(records)
    assert sorted(page for page, _ in api.served) == list(range(1, 11))
    stats = walk.stats
    assert stats.meta_inconsistent and stats.trustworthy  # the count it followed still proves
    assert stats.total_pages == 10 and not stats.stopped_early


def test_a_consistent_lie_stops_after_a_bounded_run_of_empty_pages(make_client):
    records = orders(30)
    api = PagedApi(records, max_per_page=10)
    handler = lying(api, lambda meta: meta.update(total_pages=1_000_000, total_count=10_000_000))
    walk = make_client(handler, per_page=10, concurrency=4).list_orders()
    assert ids(walk) == ids(records)
    stats = walk.stats
    assert stats.stopped_early and not stats.trustworthy
    assert stats.empty_pages == MAX_EMPTY_RUN  # each one a page the count said held orders
    assert len(api.served) <= 3 + MAX_EMPTY_RUN + 8  # real pages + the run + the prefetch


def test_pages_of_old_records_past_the_end_end_the_walk_like_empty_ones(make_client):
    records = orders(30)
    api = PagedApi(records, max_per_page=10)

    def repeat_old(request: httpx.Request) -> httpx.Response:
        answer = api(request)
        body = answer.json()
        body["meta"].update(total_pages=1_000_000, total_count=10_000_000)
        if int(request.url.params["page"]) > 3:
            body["orders"] = records[:10]  # page 1 again, for ever
        return httpx.Response(200, json=body)

    walk = make_client(repeat_old, per_page=10, concurrency=4).list_orders()
    assert ids(walk) == ids(records)
    assert walk.stats.stopped_early and not walk.stats.trustworthy
    assert walk.stats.empty_pages == 0  # pages of duplicates are not "empty" (drift makes them)
    assert len(api.served) <= 3 + MAX_EMPTY_RUN + 8  # real pages + the run + the prefetch


def test_no_count_and_a_lying_total_pages_rereads_page_1_then_stops(make_client):
    api = PagedApi(orders(30), max_per_page=10)

    def change(meta: dict[str, Any]) -> None:
        del meta["total_count"]
        meta["total_pages"] = 1_000_000

    walk = make_client(lying(api, change), per_page=10, concurrency=1).list_orders()
    assert len(walk.all()) == 30
    served = [page for page, _ in api.served]
    assert served.count(1) == 2  # the count was asked again once, after EMPTY_RUN empty pages
    assert max(served) == 3 + MAX_EMPTY_RUN
    assert walk.stats.stopped_early


def test_total_pages_1_with_a_count_of_2000_reads_every_page(make_client):
    records = orders(2000)
    api = PagedApi(records, max_per_page=50)
    handler = lying(api, lambda meta: meta.update(total_pages=1))
    walk = make_client(handler, per_page=50).list_orders()
    assert ids(walk) == ids(records)
    assert walk.stats.total_pages == 40
    assert walk.stats.meta_inconsistent and walk.stats.trustworthy  # walked by the count


def test_a_list_that_shrank_ends_when_the_live_count_says_so(make_client):
    records = orders(100)

    def shrink(api: PagedApi, page: int) -> None:
        if page == 2 and len(api.records) == 100:
            del api.records[30:]  # e.g. a pre-fetch filter whose matches left mid-walk

    api = PagedApi(records, max_per_page=10, on_page=shrink)
    walk = make_client(api, per_page=10, concurrency=1).list_orders()
    walk.all()
    served = [page for page, _ in api.served]
    # Pages 4-6 empty, then the count (30) says it is over (page 7 may be in flight by then).
    assert 3 + EMPTY_RUN <= max(served) <= 3 + EMPTY_RUN + 1
    stats = walk.stats
    assert (stats.total_pages, stats.total_count_end) == (10, 30)
    assert not stats.stopped_early and stats.empty_pages == 0 and stats.trustworthy


def test_an_empty_page_within_the_count_is_noted_and_the_walk_goes_on(make_client):
    records = orders(50)
    api = PagedApi(records, max_per_page=10)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = api(request)
        if request.url.params["page"] == "2":
            body = answer.json()
            return httpx.Response(200, json={**body, "orders": []})
        return answer

    walk = make_client(handler, per_page=10).list_orders()
    assert len(walk.all()) == 40
    assert walk.stats.empty_pages == 1 and not walk.stats.trustworthy
    assert not walk.stats.stopped_early


def test_a_state_walk_reads_every_page_its_count_implies_through_empty_runs(make_client):
    records = orders(200)
    wanted = {records[0]["id"], records[-1]["id"]}  # on page 1 and on page 20 only
    api = PagedApi(records, max_per_page=10, keep=lambda r: r["id"] in wanted)
    walk = make_client(api, per_page=10).list_orders(state="released")
    assert sorted(ids(walk)) == sorted(wanted)
    assert sorted(page for page, _ in api.served) == list(range(1, 21))
    assert walk.stats.trustworthy  # empty pages are what a post-fetch filter does


class Interrupted(Exception):
    """What a SIGTERM handler raises in the main thread."""


@pytest.fixture
def stuck() -> Any:
    """A page-2 handler that never answers until the test is over."""
    release, entered = threading.Event(), threading.Event()
    yield release, entered
    release.set()


def stuck_api(stuck: Any) -> Callable[[httpx.Request], httpx.Response]:
    release, entered = stuck
    inner = PagedApi(orders(50), max_per_page=10)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "2":
            entered.set()
            release.wait(30)
        return inner(request)

    return handler


def test_an_interrupt_in_the_consumer_does_not_wait_for_a_stuck_page(make_client, stuck):
    client = make_client(stuck_api(stuck), per_page=10, concurrency=2)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        for _page in client.list_orders().pages():
            assert stuck[1].wait(5)  # page 2 is in flight, and stuck
            raise KeyboardInterrupt
    assert time.monotonic() - started < 5


def waiting_for_a_page(thread_id: int) -> bool:
    """True while that thread is blocked in Future.result() (the walk waiting for a page)."""
    frame = sys._current_frames().get(thread_id)
    while frame is not None:
        if frame.f_code.co_name == "result" and "futures" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals")
def test_a_signal_handler_raising_while_the_walk_waits_unwinds_at_once(make_client, stuck):
    def on_signal(signum: int, frame: Any) -> None:
        raise Interrupted

    main = threading.main_thread().ident
    assert main is not None
    signalled = threading.Event()

    def signal_when_waiting() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not waiting_for_a_page(main):
            pass  # a spin on the GIL: the main thread gets there within microseconds
        signalled.set()
        signal.pthread_kill(main, signal.SIGUSR1)

    client = make_client(stuck_api(stuck), per_page=10, concurrency=2)
    previous = signal.signal(signal.SIGUSR1, on_signal)
    try:
        pages = client.list_orders().pages()
        next(pages)
        threading.Thread(target=signal_when_waiting, daemon=True).start()
        started = time.monotonic()
        with pytest.raises(Interrupted):
            next(pages)  # waits for the stuck page 2 until the handler raises
        assert signalled.is_set()
        assert time.monotonic() - started < 5
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_an_absurd_count_neither_overflows_nor_runs_away(make_client):
    api = PagedApi(orders(30), max_per_page=10)
    handler = lying(api, lambda meta: meta.update(total_count=10**400, total_pages=10**399))
    walk = make_client(handler, per_page=10, concurrency=1).list_orders()
    assert len(walk.all()) == 30
    assert walk.stats.stopped_early and max(page for page, _ in api.served) == 3 + MAX_EMPTY_RUN
