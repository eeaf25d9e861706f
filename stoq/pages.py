"""A list page: its `meta` read leniently, the pages a count implies, its new records; WalkStats."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stoq import errors
from stoq._params import Record, ascii_digits


@dataclass(frozen=True)
class PageMeta:
    """What one page says about its list: total_count, per_page, total_pages, records held."""

    count: int | None
    size: int | None
    claimed: int | None  # total_pages as the server sent it, None when absent
    held: int


@dataclass(frozen=True)
class WalkStats:
    """What a walk saw: pages, the server's counts, duplicates, and whether to trust them."""

    pages: int = 0
    total_pages: int = 0
    total_count_start: int | None = None
    total_count_end: int | None = None
    total_count_least: int | None = None  # the lowest count any page of the walk reported
    per_page: int | None = None
    duplicates: int = 0
    drift: bool = False
    records: int = 0
    meta_inconsistent: bool = False  # total_pages far from total_count / per_page: walked by count
    stopped_early: bool = False  # ended on a run of empty pages the server still counted
    empty_pages: int = 0  # pages the count said hold records that held none (no `state` filter)

    @property
    def trustworthy(self) -> bool:
        """False when the walk stopped early or met a page emptier than its count.

        A total_pages at odds with total_count alone does not spoil it: the walk followed the
        count, and the completeness proof (distinct ids >= total_count) still has to hold.
        """
        return not (self.stopped_early or self.empty_pages)


def read_meta(body: Any, list_key: str, page: int) -> PageMeta:
    """The page's meta; a later page may lack it (page 1 may not), and then tells nothing."""
    meta = body.get("meta") if isinstance(body, dict) else None
    if not isinstance(meta, dict):
        if page == 1 or not isinstance(body, dict):
            raise errors.MalformedResponse(f"{list_key} page {page}: no 'meta' object")
        meta = {}
    items = body.get(list_key)
    return PageMeta(
        count=_int(meta.get("total_count")),
        size=_int(meta.get("per_page")),
        claimed=_int(meta.get("total_pages")),
        held=len(items) if isinstance(items, list) else 0,
    )


def pages_for(count: int, per_page: int) -> int:
    """How many pages `count` records fill at `per_page` a page."""
    return -(-count // per_page) if per_page > 0 else 0  # integers: a huge count never overflows


def slack(pages: int) -> int:
    """How far a total_pages may stray from the count's before it is a lie (rounding, growth)."""
    return 1 + pages // 10


def take_records(
    body: Any,
    page: int,
    seen: set[object],
    *,
    list_key: str,
    normalize: Callable[[Any], Record],
    key: Callable[[Record], object],
    key_name: str,
) -> tuple[list[Record], int]:
    """The page's records not in `seen` (which they join), and how many were duplicates."""
    items = body.get(list_key)
    if not isinstance(items, list):
        raise errors.MalformedResponse(f"{list_key} page {page}: no '{list_key}' list")
    fresh: list[Record] = []
    duplicates = 0
    for item in items:
        record = normalize(item)
        value = key(record)
        if value is None:
            raise errors.MalformedResponse(f"{list_key} page {page}: a record has no {key_name}")
        # A bool or a list as a key must neither equal 1 nor break the set: the load rejects it.
        marker = (
            value if isinstance(value, int | str) and not isinstance(value, bool) else repr(value)
        )
        if marker in seen:
            duplicates += 1
            continue
        seen.add(marker)
        fresh.append(record)
    return fresh, duplicates


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and ascii_digits(value.strip()):
        return int(value)
    return None
