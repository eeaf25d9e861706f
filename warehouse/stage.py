"""A load's stage: typed chunks as Parquet files, written off the warehouse's transaction.

    <database dir>/.stage/<database file name>/<shop>/<stream>/<run_id>/orders-000001.parquet
    <database dir>/.stage/<database file name>/<shop>/<stream>/<run_id>.lock
    <database dir>/.stage/<database file name>/<shop>/<stream>.lock

A load writes each chunk here while it walks the API and merges the whole stage in one short
transaction at the end, so the warehouse holds no uncommitted rows during the walk (DuckDB keeps
those in memory and cannot spill them). The files are written by a private in-memory DuckDB
connection: the warehouse connection, its transaction and its catalog are never touched. A stage
is garbage once its load ends, however it ends: the load removes it, and the next load of the
shop's stream removes any left behind by a killed process. Loads of one warehouse may run in
several processes at once (they hold the file only to merge), so a live stage is told from a dead
one by its lock file: the load holds an flock on it for the stage's life, the OS drops it when
the process dies, and only a stage whose lock can be taken is cleared. One shop's stream has
one live stage at a time: a stage also holds `<stream>.lock`, and a second load of the same
shop's stream (a CLI sync beside a Dagster run, two cron jobs overlapping) raises LoadInProgress
before it stages anything, instead of walking beside it and merging an older snapshot over a
newer one. An in-memory warehouse stages in a temp dir.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, overload

import duckdb
import pandas as pd

from warehouse import connect, sql
from warehouse.errors import LoadInProgress, LoadStateError
from warehouse.migrate import DEFAULT_SHOP

STAGE_DIR = ".stage"
LOCK_SUFFIX = ".lock"
#: How long a new stage waits for its own lock file, which another load may hold for an instant
#: while it checks whether the stage is stale; longer means the same run is live elsewhere.
CLAIM_WAIT_S = 5.0
#: How long a new stage waits for its stream's lock, which a load that is ending holds for an
#: instant more; longer means another load of the shop's stream is live (LoadInProgress).
STREAM_WAIT_S = 1.0
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_UNITS = {"": 1, "B": 1, "BYTES": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4}
_UNITS |= {"KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4}


def database_file(conn: duckdb.DuckDBPyConnection) -> Path | None:
    """The connection's database file, or None for an in-memory database."""
    return connect.database_file(conn)


def _safe(name: str, fallback: str) -> str:
    """`name` as one path component (no separators, no leading dot)."""
    return _UNSAFE.sub("_", name).lstrip(".") or fallback


class Stage:
    """Parquet files of one load, by part (`orders`, `line_items`, `rejects`, ...), in order."""

    def __init__(
        self,
        database: duckdb.DuckDBPyConnection | Path | None,
        stream: str,
        run_id: str,
        *,
        shop: str = DEFAULT_SHOP,
    ) -> None:
        """A new stage for the load; `database`: the warehouse's connection or file (None: in
        memory). Clears the stages of this shop's stream left by dead loads."""
        if isinstance(database, duckdb.DuckDBPyConnection):
            database = database_file(database)
        self._lock: int | None = None
        self._stream_lock: int | None = None
        if database is None:
            self.root: Path | None = None
            self.dir = Path(tempfile.mkdtemp(prefix=f"stoq-stage-{stream}-"))
        else:
            # Per database file and shop: two warehouses in one folder (the demo's and yours),
            # or two shops' loads of one run, never touch each other's stages.
            self.root = database.parent / STAGE_DIR / database.name / _safe(shop, "shop") / stream
            self.dir = self.root / _safe(run_id, "run")
            self._stream_lock = _claim(self.root.parent, stream, wait=STREAM_WAIT_S)
            if self._stream_lock is None:
                raise LoadInProgress(
                    f"another sync of shop {shop}'s {stream} is running on this warehouse (it "
                    f"holds {self.root.parent / stream}{LOCK_SUFFIX}); this one stopped before "
                    "staging anything: run it again once that one has ended"
                )
            try:
                self._lock = _claim(self.root, self.dir.name)
            except BaseException:
                os.close(self._stream_lock)  # this load never started: the stream stays free
                raise
            shutil.rmtree(self.dir, ignore_errors=True)  # a killed earlier try of this run
            self.dir.mkdir()
            self.clear_stale()
        self._mem: duckdb.DuckDBPyConnection | None = None
        self._files: dict[str, list[str]] = {}
        try:
            self._mem = duckdb.connect(
                ":memory:", config={"threads": 1, "memory_limit": STAGE_MEMORY}
            )
        except BaseException:
            self.remove()  # the locks and the dir made above
            raise

    def clear_stale(self) -> None:
        """Remove stage dirs of this shop's stream whose load is dead (their lock is free)."""
        if self.root is None or not self.root.is_dir():
            return
        names = {p.name.removesuffix(LOCK_SUFFIX) for p in self.root.iterdir()}
        for name in names - {self.dir.name}:
            _clear_if_dead(self.root, name)

    def write(self, part: str, query: str, frame: pd.DataFrame, number: int) -> str:
        """Write `frame`, typed by `warehouse/sql/<query>.sql`, as `<part>-<number>.parquet`."""
        if self._mem is None:
            raise RuntimeError("stage already removed")
        path = str(self.dir / f"{part}-{number:06d}.parquet")
        text = sql.query(query)
        params: dict[str, Any] = {"seq": number} if "$seq" in text else {}
        self._mem.register("_chunk", frame)
        try:
            # Row groups capped in bytes: the writer holds one row group in memory, and a chunk
            # of big records (200 KB each) in one row group outgrows STAGE_MEMORY.
            relation = self._mem.sql(text, params=params)
            relation.write_parquet(path, row_group_size_bytes=STAGE_ROW_GROUP_BYTES)
        finally:
            self._mem.unregister("_chunk")
        self._files.setdefault(part, []).append(path)
        return path

    def seal(self) -> None:
        """Close the private connection (no more writes): its memory is not needed by the merge."""
        if self._mem is not None:
            self._mem.close()
            self._mem = None

    def files(self, part: str) -> list[str]:
        """The part's files in write order (a later file's version of a key wins)."""
        return list(self._files.get(part, ()))

    def remove(self) -> None:
        """Close the private connection, delete the stage dir and its lock (and empty parents)."""
        self.seal()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.root is None or self._lock is None:
            return
        _release(self._lock, self.root / f"{self.dir.name}{LOCK_SUFFIX}")
        self._lock = None
        if self._stream_lock is not None:  # the stream is free: the next load may come
            _release(self._stream_lock, self.root.parent / f"{self.root.name}{LOCK_SUFFIX}")
            self._stream_lock = None
        for parent in (self.root, *self.root.parents[:3]):  # stream, shop, database, .stage
            with contextlib.suppress(OSError):
                parent.rmdir()  # only when empty


def _release(fd: int, path: Path) -> None:
    """Unlink the lock file `path`, then close `fd`, which holds its lock: unlinked first, so no
    other load takes a lock on a dying file."""
    with contextlib.suppress(OSError):
        path.unlink()
    os.close(fd)


@overload
def _claim(root: Path, name: str) -> int: ...
@overload
def _claim(root: Path, name: str, *, wait: float) -> int | None: ...
def _claim(root: Path, name: str, *, wait: float | None = None) -> int | None:
    """Create and flock `<root>/<name>.lock`; the open descriptor holds the lock.

    Another load may hold it for an instant (checking whether it is stale, or removing it as it
    ends) or may have just removed it with our parent folders: both are retried, for CLAIM_WAIT_S
    at most. Given `wait`, None once that has passed instead of raising.
    """
    deadline = time.monotonic() + (CLAIM_WAIT_S if wait is None else wait)
    while True:
        with contextlib.suppress(FileNotFoundError):  # a parent removed under us: again
            root.mkdir(parents=True, exist_ok=True)
            path = root / f"{name}{LOCK_SUFFIX}"
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            if _lock(fd) and _same_file(fd, path):
                return fd
            os.close(fd)
        if time.monotonic() > deadline:
            if wait is not None:
                return None
            raise LoadStateError(f"stage {root / name} is in use by a live load of the same run")
        time.sleep(0.05)


def _clear_if_dead(root: Path, name: str) -> None:
    """Delete the stage `name` (dir and lock file) when no live load holds its lock."""
    path = root / f"{name}{LOCK_SUFFIX}"
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:  # a dir without a lock file: a dead load's (locks come first)
        shutil.rmtree(root / name, ignore_errors=True)
        return
    except OSError:
        return
    try:
        if _lock(fd) and _same_file(fd, path):
            shutil.rmtree(root / name, ignore_errors=True)
            path.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _lock(fd: int) -> bool:
    """Take an exclusive flock on `fd` without waiting; False when another holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` still names the file `fd` has open (not unlinked by a stale-clearer)."""
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


#: The stage's private connection writes each chunk within STAGE_MEMORY, in Parquet row groups
#: of at most STAGE_ROW_GROUP_BYTES.
STAGE_MEMORY = "128MB"
STAGE_ROW_GROUP_BYTES = 16 * 2**20

_LIMIT = re.compile(r"\s*([0-9]+(?:\.([0-9]+))?)\s*([A-Za-z]*)\s*")


def _bytes(limit: str) -> float:
    """'18.8 GiB' / '256MB' as bytes (inf when not understood: never lower an unknown limit)."""
    match = _LIMIT.fullmatch(limit)
    if match is None or match[3].upper() not in _UNITS:
        return float("inf")
    return float(match[1]) * _UNITS[match[3].upper()]


def _restorable(shown: str) -> str:
    """A limit DuckDB shows as `shown` again. It shows a truncated value ('18.8 GiB' for 18.85
    GiB): setting the shown text back would lower the limit a little on every load."""
    match = _LIMIT.fullmatch(shown)
    if match is None or match[3].upper() not in _UNITS:
        return shown
    half = 0.5 * 10.0 ** -len(match[2]) if match[2] else 0.0
    return f"{int((float(match[1]) + half) * _UNITS[match[3].upper()])}B"


@contextlib.contextmanager
def bounded(conn: duckdb.DuckDBPyConnection, memory: str, threads: int) -> Iterator[None]:
    """Lower DuckDB's memory limit and thread count for the block (never raise them); restore.

    Both are instance-wide. The memory limit makes DuckDB evict cached blocks of the database
    file and spill instead of growing (a statement that needs more fails with
    OutOfMemoryException); fewer threads build fewer row groups at once.
    """
    shown, threads_before = conn.execute(sql.query("stage_settings_get")).fetchone()  # type: ignore[misc]
    memory_before = _restorable(str(shown))
    _set(conn, min(memory, memory_before, key=_bytes), min(threads, int(threads_before)))
    try:
        yield
    finally:
        _set(conn, memory_before, int(threads_before))


def _set(conn: duckdb.DuckDBPyConnection, memory: str, threads: int) -> None:
    conn.execute(sql.query("stage_memory_limit_set"), {"memory": memory})
    conn.execute(sql.query("stage_threads_set"), {"threads": threads})


#: While finish() merges, DuckDB runs on FINISH_THREADS with a memory limit (both restored
#: after). A large append builds a whole row group (ROW_GROUP rows) in memory per thread before
#: writing it, and without a limit DuckDB keeps every block it wrote cached. The limit is
#: FINISH_MEMORY_PER_ROW_GROUP row groups of the staged rows' average width (raw JSON + ROW_BYTES),
#: at least FINISH_MEMORY_FLOOR; a load that needs more is rolled back and run again unbounded.
#: Never size it below a whole row group of the staged rows: COMMIT flushes the last row group,
#: and an OutOfMemoryException there invalidates the database (FatalException) instead of
#: rolling back, so the unbounded rerun never comes (seen with 2,000 orders of 200 KB each).
FINISH_THREADS = 1
FINISH_MEMORY_FLOOR = 128 * 2**20
FINISH_MEMORY_PER_ROW_GROUP = 1.0  # 1.25 peaked at ~400 MB for 200k orders; 1.0 at ~370 MB
ROW_GROUP = 122_880
ROW_BYTES = 256


def finish_memory(raw_bytes: int, rows: int) -> str:
    """finish()'s DuckDB memory limit: enough for a row group of the staged rows (e.g. '205MiB')."""
    width = raw_bytes / max(rows, 1) + ROW_BYTES
    limit = max(FINISH_MEMORY_FLOOR, int(FINISH_MEMORY_PER_ROW_GROUP * ROW_GROUP * width))
    return f"{limit // 2**20}MiB"
