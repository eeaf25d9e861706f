"""Order walks for the sync: a created-at window walked until provably complete, single reads.

Orders arriving mid-walk shift a newest-first list, and with pages fetched concurrently an order
can slip between two pages; other servers sort oldest-first or by id. Whatever the order, a walk
is proven complete by a count of the window read after it (orders are never deleted, so having
seen that many is proof); short of that the newest orders are caught up and counted again, and
failing that the window is walked again. Should the API delete one anyway (its count shrinks
while a walk runs), the seen count no longer proves anything for that walk: it is walked again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from preorders.progress import Phase
from stoq import StoqClient, Walk, WalkStats, errors
from stoq.pool import unwinding_pool
from warehouse.frames import order_frames

# A window start is sent this much early, so a server whose `from` is exclusive still returns
# the orders created exactly at the bound (the planner starts windows on an order's created_at).
MARGIN = timedelta(seconds=1)
CATCH_UPS = 4  # catch-up-and-count rounds after a drifting walk, before walking it again


class Report(Protocol):
    """The SyncReport fields the walks add to."""

    pages: int
    records: int
    walks: int
    drift: bool
    meta_inconsistent: bool
    stopped_early: bool
    empty_pages: int


OrderKey = int | str
Seen = dict[OrderKey, datetime | None]
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def walk_window(
    client: StoqClient,
    load: Any,
    report: Report,
    seen: Seen,
    *,
    from_: datetime | None,
    per_page: int,
    chunk: int,
    max_walks: int,
    phase: Phase | None = None,
) -> tuple[int | None, datetime | None]:
    """Walk the orders created at or after `from_` (all when None) into the load.

    Returns (the API's count of the window once provably all seen, else None; the window start
    the API finally took, which may be earlier than asked: a margin, or a date on a server that
    takes only dates). A walk that stopped early on pages the count said held orders proves
    nothing and ends the window at once (another would spend the rate budget on the same lie);
    one that met an empty page the count says holds orders is walked again, as is one whose
    count shrank while it walked. A total_pages at odds with total_count is walked by the count
    and proven by it like any other walk.
    """
    start = None if from_ is None else from_.replace(microsecond=0) - MARGIN
    effective = start
    for _ in range(max_walks):
        walk = client.list_orders(from_=start, per_page=per_page)
        load_walk(walk, load, report, seen, chunk, phase)
        effective = parse_time(walk.query.get("from")) if start is not None else None
        stats = walk.stats
        if hopeless(stats):
            return None, effective
        if not stats.trustworthy or shrank(stats):
            continue
        total = stats.total_count_end or 0
        if not stats.drift and len(seen) >= total:
            return total, effective
        for _ in range(CATCH_UPS):
            newest = latest(seen)
            if newest is not None:
                head_from = newest.replace(microsecond=0) - MARGIN
                if start is not None:
                    head_from = max(head_from, start)
                head = client.list_orders(from_=head_from, per_page=per_page)
                load_walk(head, load, report, seen, chunk, phase)
                if hopeless(head.stats):
                    return None, effective
                if not head.stats.trustworthy:
                    break  # an empty page the count says holds orders: walk the window again
            probe = _count_and_load_head(client, load, report, seen, start, per_page)
            if hopeless(probe):
                return None, effective
            if probe.trustworthy and len(seen) >= (probe.total_count_end or 0):
                return probe.total_count_end or 0, effective
    return None, effective


def hopeless(stats: WalkStats) -> bool:
    """True when the API's pages ran empty where it still counts orders: no walk can prove all."""
    return stats.stopped_early


def shrank(stats: WalkStats) -> bool:
    """True when a page of the walk counted fewer orders than page 1 did: one vanished mid-walk
    (the API may delete what it never should), the list shifted under the walk, and a live
    order may have slipped past unseen while the count still looks met, even if a new order
    brought the count back by the end. Walked again. Pages fetched at once may answer out of
    order, so only a count below page 1's (read alone, first) tells of a deletion."""
    start, least = stats.total_count_start, stats.total_count_least
    return start is not None and least is not None and least < start


def _count_and_load_head(
    client: StoqClient, load: Any, report: Report, seen: Seen, start: datetime | None, size: int
) -> WalkStats:
    """The window's page 1 (its records loaded), for the current total_count it reports."""
    probe = client.list_orders(from_=start, per_page=size)
    records = probe.head()
    _add(records, load, seen)
    report.records += len(records)
    report.pages += 1
    note(report, probe.stats)
    return probe.stats


def load_walk(
    walk: Walk, load: Any, report: Report, seen: Seen, chunk: int, phase: Phase | None = None
) -> None:
    """Stream a walk into the load in chunks, remembering each order's id and created_at."""
    for records in chunks(walk_records(walk, report, phase), chunk):
        _add(records, load, seen)
    report.walks += 1


def _add(records: list[dict[str, Any]], load: Any, seen: Seen) -> None:
    # Seen before the warehouse judges it: a record it rejects still counts towards the proof.
    for record in records:
        seen[order_id(record)] = parse_time(record.get("created_at"))
    if records:
        load.add(order_frames(records))


def load_singles(
    client: StoqClient,
    ids: list[int],
    load: Any,
    report: Report,
    chunk: int,
    phase: Phase | None = None,
) -> list[int]:
    """GET each order concurrently; return the ids the API no longer knows (404)."""
    missing: list[int] = []

    def read(oid: int) -> dict[str, Any] | None:
        try:
            return client.get_order(oid)
        except errors.NotFound:
            missing.append(oid)
            return None

    with unwinding_pool(client.concurrency, "stoq-singles") as pool:
        for records in chunks(_found(pool.map(read, ids), len(ids), phase), chunk):
            load.add(order_frames(records))
            report.records += len(records)
    return missing


def _found(
    reads: Iterable[dict[str, Any] | None], total: int, phase: Phase | None
) -> Iterator[dict[str, Any]]:
    """The orders read (404s dropped), each read reported as a step."""
    for done, record in enumerate(reads, 1):
        if phase is not None:
            phase.step(done, total, unit="orders")
        if record is not None:
            yield record


def walk_records(
    walk: Walk, report: Report, phase: Phase | None = None
) -> Iterator[dict[str, Any]]:
    """Flatten a walk's pages, adding its page count and drift to the report."""
    for page in walk.pages():
        report.records += len(page)
        if phase is not None:
            # Pages of earlier walks in this report count too: a re-walk continues the phase.
            stats = walk.stats
            done, total = report.pages + stats.pages, report.pages + stats.total_pages
            phase.step(done, total, rows=report.records)
        yield from page
    report.pages += walk.stats.pages
    note(report, walk.stats)


def note(report: Report, stats: WalkStats) -> None:
    """Add a walk's drift and doubts (a lying meta, an early stop, empty pages) to the report."""
    report.drift = report.drift or stats.drift
    report.meta_inconsistent = report.meta_inconsistent or stats.meta_inconsistent
    report.stopped_early = report.stopped_early or stats.stopped_early
    report.empty_pages += stats.empty_pages


def chunks(records: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Group records into lists of at most `size`."""
    chunk: list[dict[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def order_id(record: dict[str, Any]) -> OrderKey:
    """The Shopify order id that keys an order (SPEC §8.4), never the internal `id`.

    Any integer as is (the warehouse rejects those it cannot hold); anything else, such as a
    bool or a word, by its text, so a record the warehouse rejects is still counted as seen.
    """
    key = record.get("shopify_order_id")
    value = record.get("id") if key is None else key
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return f"{type(value).__name__}:{value!r}"  # never equal to an int key (True == 1 is)


def storable(seen: Iterable[OrderKey]) -> list[int]:
    """The seen ids a BIGINT column can hold (others were rejected, and match no stored row)."""
    return [k for k in seen if isinstance(k, int) and BIGINT_MIN <= k <= BIGINT_MAX]


def latest(seen: Seen, until: datetime | None = None) -> datetime | None:
    """The newest created_at among the orders seen, if any; given `until`, later ones are not
    counted (an order dated in the future by a wrong clock must not move a mark past now)."""
    times = [t for t in seen.values() if t is not None and (until is None or t <= until)]
    return max(times) if times else None


def parse_time(value: Any) -> datetime | None:
    """Parse an ISO 8601 timestamp or date ('Z' or offset); None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
