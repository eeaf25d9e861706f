"""Merge frames into DuckDB: one transaction per stream, sync state and run row included.

    with OrdersLoad(conn, run_id="r1", mode="full") as load:
        for page in walk.pages():
            load.add(order_frames(page))
        load.mark_missing()                 # full walks only: flag orders not seen
        load.finish(high_water_mark=..., total_count=..., stats={"pages": 12})

`add` buffers chunks and merges them set-based every `flush_rows` records (a DuckDB statement has
a fixed cost of about a millisecond, so 100-record pages are merged together); `mark_missing` and
`finish` merge what is left. Leaving the block with an exception rolls the stream back (the last
committed snapshot stays) and records a `failed` sync_runs row in a separate small transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar

import duckdb
import numpy as np
import pandas as pd

from warehouse import runs, sql
from warehouse.errors import LoadStateError
from warehouse.frames import OfferFrames, OrderFrames, Reject, concat_chunks, keep_latest
from warehouse.runs import open_orders, sync_state
from warehouse.schema import use_utc

MODES = ("full", "incremental")
FLUSH_ROWS = 20_000
F = TypeVar("F", OrderFrames, OfferFrames)


@dataclass
class LoadCounts:
    """What a load did so far (records merged, not table rows touched); final after finish()."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    state_changes: int = 0
    missing: int = 0


class _Load(Generic[F]):
    """A unit of work for one stream: begin on enter, merge chunks, commit on finish()."""

    stream: ClassVar[str]

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        *,
        run_id: str,
        mode: str = "full",
        synced_at: datetime | None = None,
        flush_rows: int = FLUSH_ROWS,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.conn, self.run_id, self.mode, self.flush_rows = conn, run_id, mode, flush_rows
        self.synced_at = synced_at or datetime.now(UTC)
        self.started_at = datetime.now(UTC)
        self.counts = LoadCounts()
        self._seen: list[np.ndarray] = []
        self._buffer: list[F] = []
        self._buffered = 0
        self._state = "new"

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._state != "open":
            return
        self._state = "failed"
        self._buffer.clear()
        with contextlib.suppress(duckdb.TransactionException):  # e.g. COMMIT itself failed
            self.conn.rollback()
        if exc is None:
            exc = LoadStateError(f"{self.stream} load left without finish(); rolled back")
            self._record_failure(exc)
            raise exc
        self._record_failure(exc)

    def _enter(self) -> None:
        if self._state != "new":
            raise LoadStateError("a load can be entered once")
        use_utc(self.conn)
        self.conn.begin()
        self._state = "open"

    def add(self, frames: F) -> LoadCounts:
        """Queue one chunk (a page or more); merged inside the open transaction when due."""
        self._check_open()
        self._seen.append(self._keys(frames))
        self._add_rejects(frames.rejects)
        self._buffer.append(frames)
        self._buffered += len(self._main(frames))
        if self._buffered >= self.flush_rows:
            self.flush()
        return self.counts

    def flush(self) -> LoadCounts:
        """Merge every queued chunk now (still inside the open transaction)."""
        self._check_open()
        if self._buffered:
            self._merge(self._buffer)
        self._buffer, self._buffered = [], 0
        return self.counts

    def mark_missing(self, seen_ids: Iterable[Any] | None = None) -> int:
        """Full walks only: flag rows not in `seen_ids` (default: every key added); never delete."""
        self.flush()
        if self.mode != "full":
            raise LoadStateError("mark_missing needs a full walk; this load is incremental")
        if seen_ids is None:
            seen_ids = np.concatenate(self._seen) if self._seen else []
        seen = pd.DataFrame({"id": self._id_array(seen_ids)})
        flagged = self._run(f"{self.stream}_mark_missing", {"_seen_ids": seen})
        self.counts.missing += flagged
        return flagged

    def finish(
        self,
        *,
        high_water_mark: datetime | None = None,
        total_count: int | None = None,
        stats: Mapping[str, Any] | None = None,
    ) -> LoadCounts:
        """Merge what is queued, write sync_state and the sync_runs row, then COMMIT."""
        self.flush()
        runs.write_state(self, high_water_mark, total_count)
        runs.write_run(self, "succeeded", stats or {}, self.counts)
        self.conn.commit()
        self._state = "committed"
        return self.counts

    # -- per stream ---------------------------------------------------------------------------

    def _main(self, frames: F) -> pd.DataFrame:
        raise NotImplementedError

    def _keys(self, frames: F) -> np.ndarray:
        raise NotImplementedError

    def _id_array(self, ids: Iterable[Any]) -> np.ndarray:
        raise NotImplementedError

    def _merge(self, chunks: list[F]) -> None:
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._state != "open":
            raise LoadStateError(f"{self.stream} load is {self._state}, not open")

    def _run(self, name: str, frames: Mapping[str, pd.DataFrame], **params: Any) -> int:
        """Run one SQL file with the given frames registered; return its row count (if any)."""
        for view, frame in frames.items():
            self.conn.register(view, frame)
        try:
            text = sql.query(name)
            values = {"synced_at": self.synced_at} | params
            bound = {k: v for k, v in values.items() if f"${k}" in text}
            # without parameters a file may hold several statements (the stage files do)
            cursor = self.conn.execute(text, bound) if bound else self.conn.execute(text)
            row = cursor.fetchone()
        finally:
            self._unregister(frames)
        return int(row[0]) if row and isinstance(row[0], int) else 0

    def _unregister(self, frames: Mapping[str, pd.DataFrame]) -> None:
        """Drop registered views; an aborted transaction refuses, and the first error matters."""
        for view in frames:
            with contextlib.suppress(duckdb.Error):
                self.conn.unregister(view)

    def _add_rejects(self, rejects: list[Reject]) -> None:
        if not rejects:
            return
        frame = pd.DataFrame(rejects, columns=["record_key", "reason", "raw"])
        chunk = {"_rejects_chunk": frame}
        self._run("rejects_insert", chunk, run_id=self.run_id, stream=self.stream)
        self.counts.rejected += len(rejects)

    def _merge_chunk(self, frames: Mapping[str, pd.DataFrame], steps: tuple[str, ...]) -> None:
        """Register the chunk's frames, classify it (adding counts), run `steps`, clean up."""
        for view, frame in frames.items():
            self.conn.register(view, frame)
        try:
            self._run(f"{self.stream}_stage", {})
            counts = dict(self.conn.execute(sql.query(f"{self.stream}_delta_counts")).fetchall())
            self.counts.inserted += counts.get("insert", 0)
            self.counts.updated += counts.get("update", 0)
            self.counts.unchanged += counts.get("unchanged", 0)
            for step in steps:
                changed = self._run(step, {})
                if step == "orders_state_history":
                    self.counts.state_changes += changed
            self._run(f"{self.stream}_unstage", {})
        finally:
            self._unregister(frames)

    def _record_failure(self, exc: BaseException) -> None:
        """Write the failed sync_runs row in its own transaction; never mask the original error."""
        try:
            self.conn.begin()
            merged = self.counts.inserted + self.counts.updated + self.counts.unchanged
            message = f"{type(exc).__name__}: {exc} (rolled back after {merged} records)"
            runs.write_run(self, "failed", {"message": message[:2000]}, LoadCounts())
            self.conn.commit()
        except Exception as inner:  # the original exception is the one that matters
            with contextlib.suppress(duckdb.Error):
                self.conn.rollback()
            exc.add_note(f"warehouse: could not record the failed sync_runs row: {inner!r}")


class OrdersLoad(_Load[OrderFrames]):
    """Orders stream: merge order chunks, replace changed orders' line items, log state changes."""

    stream = "orders"

    def __enter__(self) -> OrdersLoad:
        self._enter()
        return self

    def _main(self, frames: OrderFrames) -> pd.DataFrame:
        return frames.orders

    def _keys(self, frames: OrderFrames) -> np.ndarray:
        keys = [int(k) for k, _, _ in frames.rejects if k is not None and k.isdigit()]
        ids = frames.orders["id"].to_numpy(dtype=np.int64)
        return np.concatenate([ids, np.asarray(keys, dtype=np.int64)])

    def _id_array(self, ids: Iterable[Any]) -> np.ndarray:
        if isinstance(ids, np.ndarray):
            return ids.astype(np.int64, copy=False)
        return np.fromiter((int(i) for i in ids), dtype=np.int64)

    def mark_missing_ids(self, ids: Iterable[Any]) -> int:
        """Flag these orders missing_from_api (e.g. a per-order GET answered 404); never delete.

        Any mode. Orders already flagged keep their first missing_since; unknown ids are ignored.
        Returns the number newly flagged (added to `counts.missing`).
        """
        self.flush()
        missing = pd.DataFrame({"id": self._id_array(ids)})
        flagged = self._run("orders_mark_missing_ids", {"_missing_ids": missing})
        self.counts.missing += flagged
        return flagged

    def _merge(self, chunks: list[OrderFrames]) -> None:
        orders = concat_chunks([c.orders for c in chunks])
        items = concat_chunks([c.line_items for c in chunks])
        orders, items = keep_latest(orders, items, "order_id")
        steps = (
            "orders_state_history",
            "order_line_items_delete",
            "order_line_items_insert",
            "orders_merge",
        )
        self._merge_chunk({"_orders_chunk": orders, "_line_items_chunk": items}, steps)


class OffersLoad(_Load[OfferFrames]):
    """Offers stream (always a full walk): merge offers, replace each seen offer's variants."""

    stream = "offers"

    def __enter__(self) -> OffersLoad:
        self._enter()
        return self

    def _main(self, frames: OfferFrames) -> pd.DataFrame:
        return frames.offers

    def _keys(self, frames: OfferFrames) -> np.ndarray:
        keys = [k for k, _, _ in frames.rejects if k is not None]
        return np.asarray([*frames.offers["id"], *keys], dtype=object)

    def _id_array(self, ids: Iterable[Any]) -> np.ndarray:
        return np.asarray([str(i) for i in ids], dtype=object)

    def _merge(self, chunks: list[OfferFrames]) -> None:
        offers = concat_chunks([c.offers for c in chunks])
        links = concat_chunks([c.offer_variants for c in chunks])
        offers, links = keep_latest(offers, links, "offer_id")
        steps = ("offer_variants_delete", "offer_variants_insert", "offers_merge")
        self._merge_chunk({"_offers_chunk": offers, "_offer_variants_chunk": links}, steps)


def known_created_at(conn: duckdb.DuckDBPyConnection) -> list[datetime]:
    """created_at of every order the API still returns (not missing_from_api), oldest first."""
    return [row[0] for row in conn.execute(sql.query("known_created_at")).fetchall()]


__all__ = [
    "FLUSH_ROWS",
    "LoadCounts",
    "OffersLoad",
    "OrdersLoad",
    "known_created_at",
    "open_orders",
    "sync_state",
]
