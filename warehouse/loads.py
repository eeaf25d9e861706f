"""Merge frames into DuckDB: one transaction per stream, sync state and run row included.

    with OrdersLoad(conn, run_id="r1", mode="full") as load:
        for page in walk.pages():
            load.add(order_frames(page))
        load.mark_missing()                 # full walks only: flag orders not seen
        load.finish(high_water_mark=..., total_count=..., stats={"pages": 12})

Leaving the block with an exception rolls the stream back (the last committed snapshot stays) and
records a `failed` sync_runs row in a separate small transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar

import duckdb
import numpy as np
import pandas as pd

from warehouse import runs, sql
from warehouse.errors import LoadStateError
from warehouse.frames import OfferFrames, OrderFrames, Reject
from warehouse.runs import open_orders, sync_state
from warehouse.schema import use_utc

MODES = ("full", "incremental")


@dataclass
class LoadCounts:
    """What a load did so far (rows are records merged, not table rows touched)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    state_changes: int = 0
    missing: int = 0


class _Load:
    """A unit of work for one stream: begin on enter, merge chunks, commit on finish()."""

    stream: ClassVar[str]
    _chunks: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        *,
        run_id: str,
        mode: str = "full",
        synced_at: datetime | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.conn, self.run_id, self.mode = conn, run_id, mode
        self.synced_at = synced_at or datetime.now(UTC)
        self.started_at = datetime.now(UTC)
        self.counts = LoadCounts()
        self._seen: list[np.ndarray] = []
        self._state = "new"

    def __enter__(self) -> _Load:
        if self._state != "new":
            raise LoadStateError("a load can be entered once")
        use_utc(self.conn)
        self.conn.begin()
        self._state = "open"
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._state != "open":
            return
        self._state = "failed"
        self.conn.rollback()
        if exc is None:
            exc = LoadStateError(f"{self.stream} load left without finish(); rolled back")
            self._record_failure(exc)
            raise exc
        self._record_failure(exc)

    def finish(
        self,
        *,
        high_water_mark: datetime | None = None,
        total_count: int | None = None,
        stats: Mapping[str, Any] | None = None,
    ) -> LoadCounts:
        """Write sync_state and the sync_runs row, then COMMIT; returns the counts."""
        self._check_open()
        runs.write_state(self, high_water_mark, total_count)
        runs.write_run(self, "succeeded", stats or {}, self.counts)
        self.conn.commit()
        self._state = "committed"
        return self.counts

    def mark_missing(self, seen_ids: Iterable[Any] | None = None) -> int:
        """Full walks only: flag rows not in `seen_ids` (default: every key added); never delete."""
        self._check_open()
        if self.mode != "full":
            raise LoadStateError("mark_missing needs a full walk; this load is incremental")
        seen = self._seen_frame(seen_ids)
        flagged = self._run(f"{self.stream}_mark_missing", {"_seen_ids": seen})
        self.counts.missing += flagged
        return flagged

    def _seen_frame(self, seen_ids: Iterable[Any] | None) -> pd.DataFrame:
        raise NotImplementedError

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
            row = self.conn.execute(text, bound).fetchone()
        finally:
            for view in frames:
                self.conn.unregister(view)
        return int(row[0]) if row and isinstance(row[0], int) else 0

    def _add_rejects(self, rejects: list[Reject]) -> None:
        if not rejects:
            return
        frame = pd.DataFrame(rejects, columns=["record_key", "reason", "raw"])
        chunk = {"_rejects_chunk": frame}
        self._run("rejects_insert", chunk, run_id=self.run_id, stream=self.stream)
        self.counts.rejected += len(rejects)

    def _classify(self) -> None:
        """Classify the registered chunk (temp table _<stream>_delta) and add its counts."""
        self.conn.execute(sql.query(f"{self.stream}_classify"))
        counts = dict(self.conn.execute(sql.query(f"{self.stream}_delta_counts")).fetchall())
        self.counts.inserted += counts.get("insert", 0)
        self.counts.updated += counts.get("update", 0)
        self.counts.unchanged += counts.get("unchanged", 0)

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


class OrdersLoad(_Load):
    """Orders stream: merge order chunks, replace changed orders' line items, log state changes."""

    stream = "orders"

    def __enter__(self) -> OrdersLoad:
        super().__enter__()
        return self

    def add(self, frames: OrderFrames) -> LoadCounts:
        """Merge one chunk (a page or more) inside the open transaction; returns running counts."""
        self._check_open()
        self._seen.append(frames.orders["id"].to_numpy(dtype=np.int64, copy=True))
        keys = [int(k) for k, _, _ in frames.rejects if k is not None and k.isdigit()]
        self._seen.append(np.asarray(keys, dtype=np.int64))
        self._add_rejects(frames.rejects)
        if frames.orders.empty:
            return self.counts
        self.conn.register("_orders_chunk", frames.orders)
        self.conn.register("_line_items_chunk", frames.line_items)
        try:
            self._classify()
            self.counts.state_changes += self._run("orders_state_history", {})
            self._run("order_line_items_delete", {})
            self._run("order_line_items_insert", {})
            self._run("orders_merge", {})
        finally:
            self.conn.unregister("_orders_chunk")
            self.conn.unregister("_line_items_chunk")
        return self.counts

    def _seen_frame(self, seen_ids: Iterable[Any] | None) -> pd.DataFrame:
        if seen_ids is None:
            ids = np.concatenate(self._seen) if self._seen else np.empty(0, dtype=np.int64)
        else:
            ids = np.fromiter((int(i) for i in seen_ids), dtype=np.int64)
        return pd.DataFrame({"id": ids})


class OffersLoad(_Load):
    """Offers stream (always a full walk): merge offers, replace each seen offer's variants."""

    stream = "offers"

    def __enter__(self) -> OffersLoad:
        super().__enter__()
        return self

    def add(self, frames: OfferFrames) -> LoadCounts:
        """Merge one chunk of offers inside the open transaction; returns running counts."""
        self._check_open()
        self._seen.append(frames.offers["id"].to_numpy(dtype=object, copy=True))
        self._seen.append(np.asarray([r.record_key for r in frames.rejects if r.record_key]))
        self._add_rejects(frames.rejects)
        if frames.offers.empty:
            return self.counts
        self.conn.register("_offers_chunk", frames.offers)
        self.conn.register("_offer_variants_chunk", frames.offer_variants)
        try:
            self._classify()
            self._run("offer_variants_delete", {})
            self._run("offer_variants_insert", {})
            self._run("offers_merge", {})
        finally:
            self.conn.unregister("_offers_chunk")
            self.conn.unregister("_offer_variants_chunk")
        return self.counts

    def _seen_frame(self, seen_ids: Iterable[Any] | None) -> pd.DataFrame:
        if seen_ids is None:
            ids = [str(i) for chunk in self._seen for i in chunk]
        else:
            ids = [str(i) for i in seen_ids]
        return pd.DataFrame({"id": pd.Series(ids, dtype=object)})


__all__ = ["LoadCounts", "OffersLoad", "OrdersLoad", "open_orders", "sync_state"]


def known_created_at(conn: duckdb.DuckDBPyConnection) -> list[datetime]:
    """created_at of every order the API still returns (not missing_from_api), oldest first."""
    return [row[0] for row in conn.execute(sql.query("known_created_at")).fetchall()]
