"""The staged unit of work behind every load: buffer, stage as Parquet, merge once in finish().

A load is given a connection, used throughout as before, or an Opener (`warehouse.connect`):
then the file is opened only to find where to stage (when the caller has not opened it yet), to
merge in finish(), and to record a failure, so the walk in between leaves the file to others.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar

import duckdb
import numpy as np
import pandas as pd

from warehouse import heap, runs, sql
from warehouse.connect import Access, Connectable, access
from warehouse.errors import LoadStateError
from warehouse.frames import OfferFrames, OrderFrames, Reject, concat_chunks, keep_latest
from warehouse.migrate import DEFAULT_SHOP
from warehouse.runs import LoadCounts
from warehouse.schema import use_utc
from warehouse.stage import FINISH_THREADS, Stage, bounded, finish_memory

MODES = ("full", "incremental")
FLUSH_ROWS = 20_000
#: ... or once the queued records' raw JSON reaches this, so big records (200 KB each) are not
#: held by the thousands in Python before they are staged.
FLUSH_BYTES = 32 * 2**20
F = TypeVar("F", OrderFrames, OfferFrames)
#: One merge at a time in this process: the instance-wide memory and thread bounds of one merge
#: must not be another's, and two merges would only compete for the one writer anyway.
_MERGES = threading.RLock()


@dataclass
class _Mark:
    """A mark_missing / mark_missing_ids call, applied by finish() after the merge."""

    query: str  # warehouse/sql/<query>.sql, run with $ids
    ids: np.ndarray
    path: str | None  # the staged Parquet file of `ids` (None: written by finish)
    after: int  # chunks added before the call: a later chunk's keys count as seen again
    seen: bool  # True: `ids` were seen (flag the others); False: flag `ids`


class StagedLoad(Generic[F]):
    """A unit of work for one stream: stage chunks while open, merge and commit in finish()."""

    stream: ClassVar[str]
    child_key: ClassVar[str]  # the children's column holding the parent key
    parts: ClassVar[tuple[tuple[str, str], tuple[str, str]]]  # (file prefix, stage query) x2
    ids_query: ClassVar[str]

    def __init__(
        self,
        conn: Connectable | Access,
        *,
        run_id: str,
        mode: str = "full",
        synced_at: datetime | None = None,
        flush_rows: int = FLUSH_ROWS,
        flush_bytes: int = FLUSH_BYTES,
        shop: str = DEFAULT_SHOP,
        mark_ceiling: datetime | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.access = access(conn)
        self._conn = self.access.held  # the connection in use: always, or in a window only
        self.run_id, self.mode, self.flush_rows = run_id, mode, flush_rows
        self.flush_bytes = flush_bytes
        self.shop = shop  # every row this load writes, reads or flags is this shop's
        self.synced_at = synced_at or datetime.now(UTC)
        # A stored high-water mark later than this is a wrong clock's: finish() replaces it.
        self.mark_ceiling = mark_ceiling
        self.started_at = datetime.now(UTC)
        self.counts = LoadCounts()
        self._seen: list[np.ndarray] = []  # keys of each chunk, rejects included
        self._added: list[np.ndarray] = []  # keys of each chunk's merged rows
        self._buffer: list[F] = []
        self._rejects: list[Reject] = []
        self._buffered = 0
        self._buffered_bytes = 0
        self._staged = 0
        self._raw_bytes = 0
        self._files = 0
        self._marks: list[_Mark] = []
        self._id_files = 0
        self._stage: Stage | None = None
        self._in_transaction = False
        self._state = "new"

    @property
    def conn(self) -> duckdb.DuckDBPyConnection:
        """The warehouse connection: the one given, or (with an Opener) the open window's."""
        if self._conn is None:
            raise LoadStateError(f"{self.stream} load: the warehouse is open only to finish")
        return self._conn

    @contextlib.contextmanager
    def _window(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The warehouse for the block: the held connection, or one opened for it (UTC session)."""
        if self.access.held is not None:
            yield self.access.held
            return
        before = self._conn  # a window within a window is the same one
        with self.access.window() as conn:
            use_utc(conn)
            self._conn = conn
            try:
                yield conn
            finally:
                self._conn = before

    @property
    def staged(self) -> int:
        """Records added so far."""
        return self._staged

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._state != "open":
            return
        self._state = "failed"
        self._buffer.clear()
        try:
            self._rollback()
        finally:
            self._remove_stage()
        if exc is None:
            exc = LoadStateError(f"{self.stream} load left without finish(); rolled back")
            self._record_failure(exc)
            raise exc
        self._record_failure(exc)

    def _record_failure(self, exc: BaseException) -> None:
        """The failed sync_runs row (a window of its own with an Opener); never masks `exc`."""
        try:
            with _MERGES, self._window():
                runs.record_failure(self, exc)
        except Exception as inner:  # the warehouse could not be opened: the original matters
            exc.add_note(f"warehouse: could not record the failed sync_runs row: {inner!r}")

    def _enter(self) -> None:
        if self._state != "new":
            raise LoadStateError("a load can be entered once")
        heap.settle()  # before the walk: its pages are decoded while the load is open
        if self.access.held is not None:
            use_utc(self.access.held)
        # The stage now, even when that opens the file for an instant to learn where it is: it
        # holds the stream's lock, so a second sync of this shop's stream stops before it walks
        # (it would merge an older snapshot over this one's if it committed last).
        self._stage = Stage(self.access.database(), self.stream, self.run_id, shop=self.shop)
        self._state = "open"

    def add(self, frames: F) -> LoadCounts:
        """Queue one chunk (a page or more); staged as Parquet when `flush_rows` are queued."""
        self._check_open()
        self._seen.append(self._keys(frames))
        main = self._main(frames)
        self._added.append(self._id_array(main["id"]))
        self._rejects.extend(frames.rejects)
        self.counts.rejected += len(frames.rejects)
        self._buffer.append(frames)
        self._buffered += len(main)
        if len(main) and "raw" in main:
            self._buffered_bytes += int(main["raw"].str.len().sum())
        if self._buffered >= self.flush_rows or self._buffered_bytes >= self.flush_bytes:
            self.flush()
        return self.counts

    def flush(self) -> LoadCounts:
        """Stage every queued chunk now (the warehouse is not touched before finish)."""
        self._check_open()
        if self._buffered or self._rejects:
            stage = self._staging()
            self._files += 1
            if self._buffered:
                (main, main_sql), (child, child_sql) = self.parts
                frames, children = self._frames(self._buffer)
                stage.write(main, main_sql, frames, self._files)
                stage.write(child, child_sql, children, self._files)
                self._staged += len(frames)
                self._raw_bytes += int(frames["raw"].str.len().sum())
            if self._rejects:
                frame = pd.DataFrame(self._rejects, columns=["record_key", "reason", "raw"])
                stage.write("rejects", "stage_rejects", frame, self._files)
        self._buffer, self._buffered, self._buffered_bytes, self._rejects = [], 0, 0, []
        return self.counts

    def mark_missing(self, seen_ids: Iterable[Any] | None = None) -> int | None:
        """Full walks only: flag rows not in `seen_ids` (default: every key added); never delete.

        Applied by finish(), after the merge. Returns how many rows it will flag, counted now on
        a held connection; None with an Opener (the file is not opened mid-walk: finish counts).
        """
        self._check_open()
        if self.access.held is not None:
            self.flush()
        if self.mode != "full":
            raise LoadStateError("mark_missing needs a full walk; this load is incremental")
        if seen_ids is None:
            seen_ids = np.concatenate(self._seen) if self._seen else []
        mark = self._mark(f"{self.stream}_mark_missing", self._id_array(seen_ids), seen=True)
        if self.access.held is None:
            return None
        flagged = self._scalar(f"{self.stream}_missing_count", ids=mark.path)
        self.counts.missing += flagged
        return flagged

    def finish(
        self,
        *,
        high_water_mark: datetime | None = None,
        total_count: int | None = None,
        stats: Mapping[str, Any] | None = None,
    ) -> LoadCounts:
        """In ONE transaction: merge the stage, flag missing rows, write rejects, sync_state and
        the sync_runs row; COMMIT, then delete the stage.

        DuckDB runs it bounded (warehouse.stage.FINISH_THREADS, finish_memory): it evicts cached
        blocks instead of growing; should a statement need more, the transaction is rolled back
        and run again unbounded. With an Opener the file is opened for this only, waiting for
        other processes' merges up to `access.wait` (warehouse.connect.WINDOW_LOCK_WAIT_S, 600 s;
        $PREORDERS_WINDOW_LOCK_WAIT_S); merges in one process take turns.
        """
        self.flush()  # LoadStateError unless the load is open
        stage = self._staging()
        marks = [self._mark_file(mark) for mark in self._marks]
        stage.seal()
        stats = dict(stats or {})
        runs.check_stats(stats)
        memory = finish_memory(self._raw_bytes, self._staged)
        with _MERGES, self._window() as conn:
            try:
                with bounded(conn, memory, FINISH_THREADS):
                    self._commit(stage, marks, high_water_mark, total_count, stats)
            except duckdb.OutOfMemoryException:  # rolled back: run it again without the bound
                self._commit(stage, marks, high_water_mark, total_count, stats)
        self._state = "committed"
        self._remove_stage()
        return self.counts

    def _commit(
        self,
        stage: Stage,
        marks: list[tuple[_Mark, str]],
        high_water_mark: datetime | None,
        total_count: int | None,
        stats: Mapping[str, Any],
    ) -> None:
        """The finish transaction: every write of the load, then COMMIT."""
        rejected = self.counts.rejected
        self.counts = LoadCounts(rejected=rejected)  # set as the statements run
        self.conn.begin()
        self._in_transaction = True
        try:
            if stage.files(self.parts[0][0]):
                self._merge(stage)
            for mark, path in marks:
                self.counts.missing += self._scalar(mark.query, ids=path)
            if rejects := stage.files("rejects"):
                params = {"rejects": rejects, "run_id": self.run_id, "stream": self.stream}
                self._scalar("rejects_insert", **params)
            runs.write_state(self, high_water_mark, total_count)
            runs.write_run(self, "succeeded", stats, self.counts)
            self.conn.commit()
        except BaseException:
            self._rollback()  # now: the settings are restored outside the aborted transaction
            raise
        self._in_transaction = False

    def _rollback(self) -> None:
        if self._in_transaction:
            self._in_transaction = False
            with contextlib.suppress(duckdb.TransactionException):  # e.g. COMMIT failed
                self.conn.rollback()  # always inside finish's window: its connection is open

    # -- per stream ---------------------------------------------------------------------------

    def _main(self, frames: F) -> pd.DataFrame:
        raise NotImplementedError

    def _keys(self, frames: F) -> np.ndarray:
        raise NotImplementedError

    def _id_array(self, ids: Iterable[Any]) -> np.ndarray:
        raise NotImplementedError

    def _children(self, frames: F) -> pd.DataFrame:
        """The chunk's child rows (line items, offer variants), keyed by `child_key`."""
        raise NotImplementedError

    def _frames(self, chunks: list[F]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The queued chunks as one frame and its children, latest version of each key."""
        main = concat_chunks([self._main(c) for c in chunks])
        children = concat_chunks([self._children(c) for c in chunks])
        main, children = keep_latest(main, children, self.child_key)
        return main, children

    def _merge(self, stage: Stage) -> None:
        """Merge the stage into the stream's tables (inside finish's transaction)."""
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._state != "open":
            raise LoadStateError(f"{self.stream} load is {self._state}, not open")

    def _staging(self) -> Stage:
        """The open load's stage (made when the load was entered)."""
        self._check_open()
        if self._stage is None:  # entered loads have one until they end
            raise LoadStateError(f"{self.stream} load has no stage")
        return self._stage

    def _remove_stage(self) -> None:
        if self._stage is not None:
            self._stage.remove()
            self._stage = None

    def _scalar(self, name: str, **params: Any) -> int:
        """Run one SQL file with bound values; return its first value when it is an integer."""
        text = sql.query(name)
        values = {"synced_at": self.synced_at, "shop": self.shop} | params
        bound = {k: v for k, v in values.items() if f"${k}" in text}
        row = self.conn.execute(text, bound).fetchone()
        return int(row[0]) if row and isinstance(row[0], int) else 0

    def _count_delta(self) -> None:
        """Add the classified stage's insert / update / unchanged counts."""
        rows = self.conn.execute(sql.query(f"{self.stream}_delta_counts")).fetchall()
        counts = dict(rows)
        self.counts.inserted += counts.get("insert", 0)
        self.counts.updated += counts.get("update", 0)
        self.counts.unchanged += counts.get("unchanged", 0)

    def _mark(self, query: str, ids: np.ndarray, *, seen: bool) -> _Mark:
        """Keep the ids of a mark_missing* call; finish() applies it after the merge. Staged
        now on a held connection (to count them now), else by finish."""
        ids = np.unique(ids)
        path = None
        if self.access.held is not None:
            self._id_files += 1
            path = self._write_ids(ids, self._id_files)
        mark = _Mark(query, ids, path, after=len(self._added), seen=seen)
        self._marks.append(mark)
        return mark

    def _write_ids(self, ids: np.ndarray, number: int) -> str:
        frame = pd.DataFrame({"id": ids})
        return self._staging().write("ids", self.ids_query, frame, number)

    def _mark_file(self, mark: _Mark) -> tuple[_Mark, str]:
        """The mark and its ids file: keys added after the call count as seen again (an order
        added after mark_missing_ids is not missing), as when each call ran at once."""
        later = self._added[mark.after :]
        if not later and mark.path is not None:
            return mark, mark.path
        ids = mark.ids
        if later:
            again = np.concatenate(later)
            ids = np.union1d(ids, again) if mark.seen else np.setdiff1d(ids, again)
        self._id_files += 1
        return mark, self._write_ids(ids, self._id_files)
