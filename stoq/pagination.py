"""Page-number walks over list endpoints (SPEC §1.6, §3.2, §8.1-8.3)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future
from functools import partial
from typing import Any

from stoq import errors
from stoq._params import Record
from stoq.inflight import Inflight
from stoq.pages import PageMeta, WalkStats, pages_for, read_meta, slack, take_records
from stoq.pool import unwinding_pool

DEFAULT_PER_PAGE = 25  # the documented default; a stricter server may reject anything larger
EMPTY_RUN = 3  # empty pages in a row past the last page with records, then the count is re-read
MAX_EMPTY_RUN = 8  # the most a walk reads in a row while the server still counts records there

FetchPage = Callable[[int, int | None], Any]
Page = tuple[Any, PageMeta]


class Walk:
    """Pages 1..N of one list, fetched concurrently, yielded in order, deduped.

    N is meta.total_pages checked against total_count / per_page (a claim far off is a lie: the
    count is walked, `meta_inconsistent`) and grows with the largest count seen, up to twice
    page 1's figure. Never stops on a short or empty page (the orders `state` filter runs after
    paging), but EMPTY_RUN empty pages in a row past the last page with records re-read the
    count (unless a post-fetch `state` filter explains them): the walk ends if the list now ends
    before that page, else after MAX_EMPTY_RUN of them (`stopped_early`). Follows meta.per_page
    when the server clamps. If page 1 answers 400/422, it retries without a per_page above the
    documented default, then with `relax()`'s looser query (e.g. dates for datetimes), then
    both. A later page answering 404 past the end of a fresh count is an empty page. Pages
    after the first go out through an `Inflight` gate made by `inflight` for each pass (by
    default `concurrency` at a time, fixed).
    """

    def __init__(
        self,
        fetch: FetchPage,
        *,
        list_key: str,
        key: Callable[[Record], object],
        key_name: str,
        normalize: Callable[[Any], Record],
        per_page: int | None,
        concurrency: int,
        prefetch: int | None = None,
        relax: Callable[[], bool] | None = None,
        query: dict[str, Any] | None = None,
        inflight: Callable[[], Inflight] | None = None,
    ) -> None:
        self._fetch = fetch
        self.list_key = list_key
        self._key = key
        self._key_name = key_name
        self._normalize = normalize
        self._per_page = per_page
        self._concurrency = max(1, concurrency)
        self._relax = relax
        # The filters as sent (page/per_page aside); `relax` may loosen them in place.
        self.query = query if query is not None else {}
        # Pages in flight or waiting to be yielded (default: twice the gate's limit): bounded.
        self._prefetch = prefetch
        fixed = partial(Inflight, self._concurrency, self._concurrency, clock=time.monotonic)
        self._inflight: Callable[[], Inflight] = inflight or fixed
        self._gate = self._inflight()
        self._lock = threading.Lock()
        self._reset()

    @property
    def peak_in_flight(self) -> int:
        """The most pages this walk's last pass had out at once (page 1 goes alone)."""
        return self._gate.peak

    @property
    def stats(self) -> WalkStats:
        """The walk's figures so far (final once the walk is exhausted)."""
        with self._lock:
            return WalkStats(
                pages=self._pages,
                total_pages=self._total_pages,
                total_count_start=self._counts[0] if self._counts else None,
                total_count_end=self._counts[-1] if self._counts else None,
                total_count_least=min(self._counts) if self._counts else None,
                per_page=self._seen_per_page,
                duplicates=self._duplicates,
                drift=len(set(self._counts)) > 1,
                records=self._records,
                meta_inconsistent=self._inconsistent,
                stopped_early=self._stopped_early,
                empty_pages=self._empty_pages,
            )

    def pages(self) -> Generator[list[Record], None, None]:
        """Each page's new records (duplicates dropped), in page order."""
        self._reset()
        seen: set[object] = set()
        gate = self._gate = self._inflight()
        asked = gate.clock()
        (body, meta), per_page = self._first()
        gate.warm(gate.clock() - asked)  # a slow page 1: the rest go out wide at once
        per_page = self._seen_per_page or per_page
        number, next_page = 1, 2
        with unwinding_pool(gate.ceiling, "stoq-walk") as pool:
            pending: deque[tuple[int, Future[Page]]] = deque()
            try:
                while True:
                    fresh = self._take(body, number, seen)
                    stop = self._ends_after(number, meta, per_page, len(fresh))
                    # Fill the pipeline before yielding, so pages arrive while the caller works.
                    while (
                        not stop
                        and next_page <= self._frontier()
                        and len(pending) < self._window(gate)
                    ):
                        future = pool.submit(self._fetch_gated, gate, next_page, per_page)
                        pending.append((next_page, future))
                        next_page += 1
                    yield fresh
                    if stop or not pending:
                        return
                    number, future = pending.popleft()
                    body, meta = future.result()
            finally:
                for _, future in pending:
                    future.cancel()
                gate.close()  # pages waiting for a place are not fetched either

    def head(self) -> list[Record]:
        """Page 1's records alone, for its count (in `stats`); no other page is fetched."""
        self._reset()
        page, _ = self._first()
        return self._take(page[0], 1, set())

    def __iter__(self) -> Iterator[Record]:
        for page in self.pages():
            yield from page

    def all(self) -> list[Record]:
        """Every record of the walk in one list (only for lists known to be small)."""
        return list(self)

    def _reset(self) -> None:
        with self._lock:
            self._pages = 0
            self._total_pages = 0
            self._counts: list[int] = []
            self._max_count = 0
            self._seen_per_page: int | None = None
            self._unit: int | None = None  # records per page, to turn counts into pages
            self._unit_exact = False  # echoed by the server, not guessed from page 1's length
            self._cap = 0
            self._duplicates = 0
            self._records = 0
            self._inconsistent = False
            self._stopped_early = False
            self._empty_pages = 0
            self._last_data = 0  # the last page (in page order) that held records
            self._run = 0  # empty pages in a row since then

    def _first(self) -> tuple[Page, int | None]:
        sizes = [self._per_page]
        if self._per_page is not None and self._per_page > DEFAULT_PER_PAGE:
            sizes.append(None)
        relax = self._relax
        while True:
            for i, size in enumerate(sizes):
                try:
                    return self._fetch_noted(1, size, first=True), size
                except errors.ValidationError:
                    # Every size refused: loosen the query once (if it can be) and try again.
                    if i == len(sizes) - 1 and (relax is None or not relax()):
                        raise
            relax = None

    def _window(self, gate: Inflight) -> int:
        """Pages submitted and not yet yielded: room to grow into, within bounded memory."""
        return max(gate.limit, self._prefetch or 2 * gate.limit)

    def _fetch_gated(self, gate: Inflight, page: int, per_page: int | None) -> Page:
        entered = gate.enter()
        try:
            return self._fetch_noted(page, per_page)
        finally:
            gate.leave(entered)

    def _fetch_noted(self, page: int, per_page: int | None, *, first: bool = False) -> Page:
        """Fetch a page and note its meta at once, so growth is seen before submitting more."""
        try:
            body = self._fetch(page, per_page)
        except errors.NotFound:
            if first or page == 1:
                raise
            # A server that 404s past the end: past a fresh count's end the page is just empty.
            live = self._fetch_noted(1, per_page)[1]
            if page <= (self._at(live.count) or live.claimed or 0):
                raise
            with self._lock:
                self._pages += 1
            return {self.list_key: []}, PageMeta(live.count, live.size, None, 0)
        meta = read_meta(body, self.list_key, page)
        with self._lock:
            self._pages += 1
            if meta.count is not None:
                self._counts.append(meta.count)
                self._max_count = max(self._max_count, meta.count)
            if first and (meta.size or meta.held):
                self._seen_per_page = meta.size or None
                # Page 1's length never overstates per_page, so the pages it implies are enough.
                self._unit, self._unit_exact = meta.size or meta.held, bool(meta.size)
            target = self._target(meta, first)
            if first:
                # Growth beyond this means orders arrive faster than pages are read: stop there.
                self._cap = max(self._cap, 2 * target + 10)
            # Never shrink: a walk that was promised N (credible) pages reads N pages.
            self._total_pages = min(max(self._total_pages, target), self._cap)
        return body, meta

    def _target(self, meta: PageMeta, first: bool) -> int:
        """The pages this page's meta asks for, the claim checked against the live count."""
        claim, unit = meta.claimed, self._unit
        if meta.count is None or not unit:
            if claim is None and first and meta.count != 0:
                raise errors.MalformedResponse(f"{self.list_key} page 1: meta lacks total_pages")
            return claim or 0
        here, live = pages_for(meta.count, unit), pages_for(self._max_count, unit)
        if claim is None:
            return live
        if claim > here + slack(here) or (self._unit_exact and claim < here - slack(here)):
            self._inconsistent = True  # one of total_pages or total_count is false: trust neither
            return live
        return max(claim, live)

    def _at(self, count: int | None) -> int | None:
        """The pages `count` records fill at this walk's page size (None when either is unknown)."""
        return pages_for(count, self._unit) if count is not None and self._unit else None

    def _frontier(self) -> int:
        """The last page to submit: total_pages, or the end of the empty run being read."""
        if self._run and not self._exempt():
            return min(self._total_pages, self._last_data + MAX_EMPTY_RUN)
        return self._total_pages

    def _exempt(self) -> bool:
        """True when empty pages are expected: a post-fetch `state` filter under a sound count."""
        with self._lock:
            sound = self._counts and self._unit and not self._inconsistent
        return bool(sound) and "state" in self.query

    def _ends_after(self, page: int, meta: PageMeta, per_page: int | None, fresh: int) -> bool:
        """Note whether the page held new records; True when the walk should end after it.

        A page of records seen already counts toward the run like an empty one: a server that
        repeats old pages past the end must not keep the walk going for ever.
        """
        if fresh:
            self._last_data, self._run = page, 0
            return False
        self._run += 1
        self._gate.shrink()  # near the end, or a lying count: fetch no wider than the floor
        count = meta.count if meta.count is not None else self.stats.total_count_end
        at = self._at(count)
        # Without a post-fetch filter, a page within the count is never empty on an honest server
        # (one of duplicates only may be: orders arriving shift a newest-first list).
        if (
            not meta.held
            and at is not None
            and page <= at
            and self._unit_exact
            and "state" not in self.query
        ):
            with self._lock:
                self._empty_pages += 1
        if self._exempt() or self._run < EMPTY_RUN:
            return False
        if meta.count is None and self._run == EMPTY_RUN:
            at = self._at(self._fetch_noted(1, per_page)[1].count)  # re-read the count
        if at is not None and at < page:
            return True  # the list now ends before this page
        if self._run >= MAX_EMPTY_RUN:
            with self._lock:
                self._stopped_early = True
            return True
        return False

    def _take(self, body: Any, page: int, seen: set[object]) -> list[Record]:
        fresh, duplicates = take_records(
            body, page, seen, list_key=self.list_key, normalize=self._normalize,
            key=self._key, key_name=self._key_name,
        )  # fmt: skip
        with self._lock:
            self._duplicates += duplicates
            self._records += len(fresh)
        return fresh

    def __repr__(self) -> str:
        return f"Walk({self.list_key!r}, per_page={self._per_page})"
