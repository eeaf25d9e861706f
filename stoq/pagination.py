"""Page-number walks over list endpoints (SPEC §1.6, §3.2, §8.1-8.3)."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from stoq import errors
from stoq._params import Record

DEFAULT_PER_PAGE = 25  # the documented default; a stricter server may reject anything larger

FetchPage = Callable[[int, int | None], Any]


@dataclass(frozen=True)
class WalkStats:
    """What a walk saw: pages fetched, the page/record counts the server reported, duplicates."""

    pages: int = 0
    total_pages: int = 0
    total_count_start: int | None = None
    total_count_end: int | None = None
    per_page: int | None = None
    duplicates: int = 0
    drift: bool = False
    records: int = 0


class Walk:
    """Pages 1..meta.total_pages of one list, fetched concurrently, yielded in order, deduped.

    Never stops on a short or empty page (the orders `state` filter runs after paging), follows
    meta.per_page when the server clamps, and extends when a later page reports more pages.
    If page 1 answers 400/422, it retries without a per_page above the documented default (a
    stricter server may reject rather than clamp), then with `relax()`'s looser query (e.g. dates
    for datetimes), then with both. `total_pages` is computed from `total_count` when absent,
    and a later page without it, or answering 404 (past the end), counts as an empty page.
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
        # Pages in flight or waiting to be yielded: bounds memory however long the list is.
        self._prefetch = max(self._concurrency, prefetch or 2 * self._concurrency)
        self._lock = threading.Lock()
        self._reset()

    @property
    def stats(self) -> WalkStats:
        """The walk's figures so far (final once the walk is exhausted)."""
        with self._lock:
            return WalkStats(
                pages=self._pages,
                total_pages=self._total_pages,
                total_count_start=self._counts[0] if self._counts else None,
                total_count_end=self._counts[-1] if self._counts else None,
                per_page=self._seen_per_page,
                duplicates=self._duplicates,
                drift=len(set(self._counts)) > 1,
                records=self._records,
            )

    def pages(self) -> Iterator[list[Record]]:
        """Each page's new records (duplicates dropped), in page order."""
        self._reset()
        seen: set[object] = set()
        first, per_page = self._first()
        per_page = self._seen_per_page or per_page
        yield self._take(first, 1, seen)
        with ThreadPoolExecutor(self._concurrency, thread_name_prefix="stoq-walk") as pool:
            pending: deque[tuple[int, Future[Any]]] = deque()
            next_page = 2
            try:
                while True:
                    while next_page <= self._total_pages and len(pending) < self._prefetch:
                        future = pool.submit(self._fetch_noted, next_page, per_page)
                        pending.append((next_page, future))
                        next_page += 1
                    if not pending:
                        return
                    number, future = pending.popleft()
                    yield self._take(future.result(), number, seen)
            finally:
                for _, future in pending:
                    future.cancel()

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
            self._seen_per_page: int | None = None
            self._cap = 0
            self._duplicates = 0
            self._records = 0

    def _first(self) -> tuple[Any, int | None]:
        sizes = [self._per_page]
        if self._per_page is not None and self._per_page > DEFAULT_PER_PAGE:
            sizes.append(None)
        relax = self._relax
        while True:
            for i, size in enumerate(sizes):
                try:
                    return self._fetch_noted(1, size), size
                except errors.ValidationError:
                    # Every size refused: loosen the query once (if it can be) and try again.
                    if i == len(sizes) - 1 and (relax is None or not relax()):
                        raise
            relax = None

    def _fetch_noted(self, page: int, per_page: int | None) -> Any:
        """Fetch a page and note its meta at once, so growth is seen before submitting more."""
        try:
            body = self._fetch(page, per_page)
        except errors.NotFound:
            if page == 1 or page <= self._current_pages(per_page):
                raise
            # Past the end on a server that 404s there (the list shrank mid-walk): no records.
            with self._lock:
                self._pages += 1
            return {self.list_key: []}
        count, size, total = self._meta(body, page)
        with self._lock:
            self._pages += 1
            if page == 1 and total is not None:
                # Growth beyond this means orders arrive faster than pages are read: stop there.
                self._cap = max(self._cap, 2 * total + 10)
            # Never shrink: a walk that was promised N pages reads N pages.
            self._total_pages = min(max(self._total_pages, total or 0), self._cap)
            if count is not None:
                self._counts.append(count)
            if page == 1 and size:
                self._seen_per_page = size
        return body

    def _current_pages(self, per_page: int | None) -> int:
        """How many pages the list has now, from a fresh page 1 (after a 404 on a later page)."""
        total = self._meta(self._fetch(1, per_page), 1)[2]
        with self._lock:
            self._pages += 1
        return total or 0

    def _meta(self, body: Any, page: int) -> tuple[int | None, int | None, int | None]:
        """(total_count, per_page, total_pages) of a page; total_pages computed when absent."""
        meta = body.get("meta") if isinstance(body, dict) else None
        if not isinstance(meta, dict):
            if page == 1 or not isinstance(body, dict):
                raise errors.MalformedResponse(f"{self.list_key} page {page}: no 'meta' object")
            meta = {}
        count = _int(meta.get("total_count"))
        size = _int(meta.get("per_page"))
        total = _int(meta.get("total_pages"))
        if total is None and count is not None:
            # total_count without total_pages: compute it from the size the server used, or
            # without an echo from page 1's length, which never overstates it (more is safe).
            used = size or self._seen_per_page
            if not used and page == 1:
                items = body.get(self.list_key)
                used = len(items) if isinstance(items, list) else None
            total = math.ceil(count / used) if used else (0 if count == 0 else None)
        if total is None and page == 1:
            raise errors.MalformedResponse(f"{self.list_key} page {page}: meta lacks total_pages")
        return count, size, total

    def _take(self, body: Any, page: int, seen: set[object]) -> list[Record]:
        items = body.get(self.list_key)
        if not isinstance(items, list):
            raise errors.MalformedResponse(
                f"{self.list_key} page {page}: no '{self.list_key}' list"
            )
        fresh: list[Record] = []
        duplicates = 0
        for item in items:
            record = self._normalize(item)
            key = self._key(record)
            if key is None:
                raise errors.MalformedResponse(
                    f"{self.list_key} page {page}: a record has no {self._key_name}"
                )
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            fresh.append(record)
        with self._lock:
            self._duplicates += duplicates
            self._records += len(fresh)
        return fresh

    def __repr__(self) -> str:
        return f"Walk({self.list_key!r}, per_page={self._per_page})"


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
