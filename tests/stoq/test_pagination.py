"""Walks: every page to total_pages, in order, deduped, extended on growth, drift reported."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from stoq import WalkStats, errors

from .conftest import PagedApi, orders


def ids(records):
    return [r["id"] for r in records]


def test_walks_every_page_in_order(make_client):
    records = orders(95)
    api = PagedApi(records, max_per_page=10)
    walk = make_client(api, per_page=10).list_orders()
    pages = list(walk.pages())
    assert [len(p) for p in pages] == [10] * 9 + [5]
    assert ids(r for p in pages for r in p) == ids(records)
    assert walk.stats == WalkStats(
        pages=10,
        total_pages=10,
        total_count_start=95,
        total_count_end=95,
        total_count_least=95,
        per_page=10,
        duplicates=0,
        drift=False,
        records=95,
    )


def test_short_and_empty_pages_mid_walk_keep_going(make_client):
    placed = [{"id": i, "shopify_order_id": i, "state": "placed"} for i in range(100, 130)]
    released = [{"id": i, "shopify_order_id": i, "state": "released"} for i in range(1, 6)]
    # page 1: 3 matches; pages 2-4: none (empty); page 5: 2 matches (a short page).
    records = released[:3] + placed[:7] + placed[7:30] + released[3:] + placed[:0]
    api = PagedApi(records, max_per_page=10, keep=lambda r: r["state"] == "released")
    walk = make_client(api, per_page=10).list_orders(state="released")
    pages = list(walk.pages())
    assert [len(p) for p in pages] == [3, 0, 0, 2]
    assert sorted(ids(r for p in pages for r in p)) == [1, 2, 3, 4, 5]
    assert sorted(page for page, _ in api.served) == [1, 2, 3, 4]


def test_clamped_per_page_is_trusted(make_client):
    api = PagedApi(orders(50), max_per_page=20)
    walk = make_client(api, per_page=100).list_orders()
    assert len(walk.all()) == 50
    assert sorted(api.served) == [(1, 100), (2, 20), (3, 20)]
    assert walk.stats.per_page == 20
    assert walk.stats.total_pages == 3


def test_growth_mid_walk_extends_and_dedupes(make_client):
    original = orders(100, start=1000)
    newer = orders(25, start=5000)
    grown = False

    def grow(api: PagedApi, page: int) -> None:
        nonlocal grown
        if page == 2 and not grown:  # 25 newer orders land at the front of a newest-first list
            grown = True
            api.records[:0] = newer

    api = PagedApi(list(original), max_per_page=10, on_page=grow)
    walk = make_client(api, per_page=10, concurrency=1).list_orders()
    seen = ids(walk)
    assert len(seen) == len(set(seen))
    assert set(ids(original)) <= set(seen)  # the shift pushed nothing out of reach
    stats = walk.stats
    assert stats.total_pages == 13
    assert stats.pages == 13
    assert stats.duplicates == 10  # the first page's orders came round again
    assert (stats.total_count_start, stats.total_count_end, stats.drift) == (100, 125, True)


def test_duplicates_across_pages_are_counted_and_dropped(make_client):
    records = orders(20)
    records[12] = dict(records[3])  # the same order on pages 1 and 2
    walk = make_client(PagedApi(records, max_per_page=10), per_page=10).list_orders()
    assert len(walk.all()) == 19
    assert walk.stats.duplicates == 1


def test_orders_fall_back_to_id_and_coerce_strings(make_client):
    records = [{"id": "7", "state": "placed"}, {"id": 8, "shopify_order_id": "9"}]
    walk = make_client(PagedApi(records)).list_orders()
    assert walk.all() == [{"id": 7, "state": "placed"}, {"id": 8, "shopify_order_id": 9}]


def test_a_record_without_its_key_is_an_error(make_client):
    walk = make_client(PagedApi([{"state": "placed"}])).list_orders()
    with pytest.raises(errors.MalformedResponse, match="shopify_order_id"):
        walk.all()


def test_variant_and_offer_keys(make_client):
    variants = [{"shopify_variant_id": 1}, {"shopify_variant_id": "1"}, {"id": 3}]
    walk = make_client(PagedApi(variants, "product_variants")).list_product_variants()
    with pytest.raises(errors.MalformedResponse, match="shopify_variant_id"):
        walk.all()
    assert walk.stats.duplicates == 0  # the page was rejected whole
    offers = [{"id": "a"}, {"id": "a"}, {"id": "b"}]
    offer_walk = make_client(PagedApi(offers, "offers")).list_offers()
    assert offer_walk.all() == [{"id": "a"}, {"id": "b"}]
    assert offer_walk.stats.duplicates == 1


def test_a_missing_meta_is_an_error(make_client):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"orders": []})

    with pytest.raises(errors.MalformedResponse, match="meta"):
        make_client(handler).list_orders().all()


def test_digits_of_other_scripts_read_as_no_number_not_a_crash(make_client):
    # "²".isdigit() is True, but int("²") raises: a count or an id in such digits tells nothing.
    def handler(request: httpx.Request) -> httpx.Response:
        meta = {"total_count": "\u00b2", "per_page": "\u0665", "total_pages": 1}
        return httpx.Response(200, json={"orders": [{"shopify_order_id": "\u00b2"}], "meta": meta})

    walk = make_client(handler).list_orders()
    assert walk.all() == [{"shopify_order_id": "\u00b2"}]  # kept as text: the load rejects it
    assert walk.stats.total_count_start is None


def test_422_on_a_big_per_page_falls_back_to_the_default(make_client):
    api = PagedApi(orders(60), reject_above=25)
    walk = make_client(api, per_page=100).list_orders()
    assert len(walk.all()) == 60
    assert api.served[:2] == [(1, 100), (1, None)]
    assert sorted(api.served[2:]) == [(2, 25), (3, 25)]
    assert walk.stats.per_page == 25


def test_422_on_a_small_per_page_is_raised(make_client):
    api = PagedApi(orders(60), reject_above=10)
    with pytest.raises(errors.ValidationError):
        make_client(api).list_orders(per_page=20).all()
    assert api.served == [(1, 20)]


def test_pages_are_fetched_concurrently(make_client):
    barrier = threading.Barrier(4, timeout=5)
    inner = PagedApi(orders(100), max_per_page=10)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] in {"2", "3", "4", "5"}:
            barrier.wait()  # breaks (and fails the walk) unless four pages are in flight at once
        return inner(request)

    assert len(make_client(handler, concurrency=4, per_page=10).list_orders().all()) == 100


def test_prefetch_is_bounded_and_stopping_early_stops_fetching(make_client):
    api = PagedApi(orders(1000), max_per_page=10)
    walk = make_client(api, per_page=10, concurrency=2).list_orders()
    pages = walk.pages()
    for _ in range(3):
        next(pages)
    assert len(api.served) <= 3 + 4  # consumed + the prefetch bound (2 x concurrency)
    pages.close()  # returns at once, without waiting for the pages in flight
    for thread in threading.enumerate():
        if thread.name.startswith("stoq-walk"):
            thread.join(5)
    assert len(api.served) <= 3 + 4  # queued pages were cancelled: none fetched after the close


def test_an_error_on_a_later_page_surfaces(make_client):
    inner = PagedApi(orders(30), max_per_page=10)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "3":
            return httpx.Response(404, json={"errors": ["gone"]})
        return inner(request)

    pages = make_client(handler, per_page=10).list_orders().pages()
    assert len(next(pages)) == 10
    assert len(next(pages)) == 10
    with pytest.raises(errors.NotFound):
        next(pages)


def test_a_walk_can_run_twice(make_client):
    walk = make_client(PagedApi(orders(30), max_per_page=10), per_page=10).list_orders()
    assert ids(walk) == ids(walk)
    assert walk.stats.pages == 3


def test_head_reads_page_1_alone(make_client):
    records = orders(100)
    api = PagedApi(records, max_per_page=10)
    walk = make_client(api, per_page=10).list_orders()
    assert ids(walk.head()) == ids(records[:10])
    assert api.served == [(1, 10)]
    assert (walk.stats.pages, walk.stats.total_count_end) == (1, 100)


def slow(api: PagedApi, clock, latency: float):
    """`api` answering after `latency` seconds of the fake clock (and a little real time, so
    requests do overlap)."""

    def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(latency)
        time.sleep(0.002)
        return api(request)

    return handler


def test_slow_pages_grow_the_walk_past_concurrency(make_client, clock):
    api = PagedApi(orders(1000), max_per_page=10)
    walk = make_client(slow(api, clock, 0.3), per_page=10, concurrency=4).list_orders()
    assert ids(walk) == ids(orders(1000))
    assert 4 < walk.peak_in_flight <= 16  # the default max_concurrency
    assert sorted(page for page, _ in api.served) == list(range(1, 101))  # each page once


def test_fast_pages_or_a_ceiling_at_concurrency_keep_the_walk_at_concurrency(make_client, clock):
    fast = make_client(PagedApi(orders(1000), max_per_page=10), per_page=10).list_orders()
    assert len(fast.all()) == 1000
    assert fast.peak_in_flight <= 4
    api = PagedApi(orders(1000), max_per_page=10)
    capped = make_client(slow(api, clock, 0.3), per_page=10, max_concurrency=4).list_orders()
    assert len(capped.all()) == 1000
    assert capped.peak_in_flight <= 4
