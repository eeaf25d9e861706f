"""Open the warehouse file: a permanent local error fails at once, a lock is waited on (bounded).

DuckDB lets one process write a file at a time; another process's lock is the one failure that
goes away by itself, so only it is retried, for at most `lock_wait` seconds. A directory, a file
that is not a DuckDB database, a file or folder we may not write, a folder that cannot be made:
retrying those only hides them, so they raise `WarehouseUnavailable` naming the path and cause.

A long sync does not hold the file: it is given an `Opener` and opens the file only in short
windows (`Access.window`: the reads that plan it, the merge that ends it), so the walks of other
shops in other processes overlap and only their merges take turns on DuckDB's one writer.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

import duckdb

from warehouse import sql
from warehouse.errors import WarehouseLocked, WarehouseUnavailable

LOCK_WAIT_S = 30.0
LOCK_WAIT_ENV = "PREORDERS_LOCK_WAIT_S"
#: A window (a sync's start reads, its merge) waits this long for other processes' windows: N
#: shops finishing together queue for the one writer, and a merge of 10k orders takes seconds,
#: so the wait is far longer than LOCK_WAIT_S. $PREORDERS_WINDOW_LOCK_WAIT_S sets it.
WINDOW_LOCK_WAIT_S = 600.0
WINDOW_LOCK_WAIT_ENV = "PREORDERS_WINDOW_LOCK_WAIT_S"

#: A zero-argument callable returning a context manager that yields a connection, e.g.
#: `WarehouseSettings.from_env().connect` or Dagster's `WarehouseResource.get_connection`.
Opener = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
#: What a sync or a load is given: a connection it uses throughout, or an Opener.
Connectable = duckdb.DuckDBPyConnection | Opener
_LOCKED = ("Could not set lock on file", "Conflicting lock")
_NOT_DUCKDB = "not a valid DuckDB database file"
#: Pauses between tries on a lock: short, because N shops' merges queue for the file one after
#: another and every idle gap between two of them adds to the last one's wait (a failed try is
#: a few ms of file locking).
_FIRST_PAUSE, _LONGEST_PAUSE = 0.05, 0.2


def lock_wait_from_env(default: float = LOCK_WAIT_S, env: str = LOCK_WAIT_ENV) -> float:
    """Seconds to wait for another process's lock: $`env` (a lock wait variable), else `default`."""
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default
    try:
        wait = float(raw)
    except ValueError:
        raise ValueError(f"{env} must be a number of seconds (got {raw!r})") from None
    if not wait >= 0 or wait == float("inf"):
        raise ValueError(f"{env} must be a number of seconds >= 0 (got {raw!r})")
    return wait


def connect(
    path: str,
    *,
    lock_wait: float = LOCK_WAIT_S,
    config: Mapping[str, Any] | None = None,
    label: str = "DuckDB path",
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> duckdb.DuckDBPyConnection:
    """A connection to `path` (created with its folder when missing); `label` names the setting
    the path came from in error messages (e.g. PREORDERS_DUCKDB_PATH)."""
    where = f"{label} {path}"
    if path != ":memory:":
        _check_path(Path(path), where)
    deadline = clock() + lock_wait
    pause = _FIRST_PAUSE
    while True:
        try:
            return duckdb.connect(path, config=dict(config or {}))
        except duckdb.Error as exc:
            text = str(exc)
            # An empty file is one another process is creating right now (DuckDB calls it
            # not a database until its header is written): waited on like a lock, bounded.
            creating = _NOT_DUCKDB in text and _empty(Path(path))
            if creating and deadline - clock() <= 0:
                raise WarehouseUnavailable(_cause(where, Path(path), text), path) from exc
            if not creating and not any(marker in text for marker in _LOCKED):
                raise WarehouseUnavailable(_cause(where, Path(path), text), path) from exc
            left = deadline - clock()
            if left <= 0:
                message = (
                    f"{where} is locked by another process (DuckDB allows one writer);"
                    f" gave up after waiting {lock_wait:g}s ({LOCK_WAIT_ENV} sets the wait)"
                )
                raise WarehouseLocked(message, path, lock_wait) from exc
            sleep(min(pause, left))
            pause = min(pause * 2, _LONGEST_PAUSE)


def _empty(path: Path) -> bool:
    """Whether `path` is a file of 0 bytes (one being created)."""
    try:
        return path.stat().st_size == 0
    except OSError:
        return False


def _check_path(path: Path, where: str) -> None:
    """Fail early on what DuckDB would report obscurely; make a missing folder."""
    if path.is_dir():
        raise WarehouseUnavailable(f"{where} is a directory, not a DuckDB file", str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        message = f"{where}: its folder {path.parent} cannot be made ({reason})"
        raise WarehouseUnavailable(message, str(path)) from exc


def _cause(where: str, path: Path, text: str) -> str:
    """One line naming the path and why DuckDB could not open it."""
    if _NOT_DUCKDB in text:
        return f"{where} is not a DuckDB database file"
    if "Is a directory" in text:
        return f"{where} is a directory, not a DuckDB file"
    if "Permission denied" in text or "Read-only file system" in text:
        return f"{where} cannot be opened for writing (read-only or permission denied): {text}"
    return f"{where} cannot be opened: {text}"


def is_locked(exc: BaseException) -> bool:
    """True for another process's lock on the file: WarehouseLocked, or DuckDB's own error."""
    if isinstance(exc, WarehouseLocked):
        return True
    return isinstance(exc, duckdb.Error) and any(marker in str(exc) for marker in _LOCKED)


def database_file(conn: duckdb.DuckDBPyConnection) -> Path | None:
    """The connection's database file, or None for an in-memory database."""
    row = conn.execute(sql.query("stage_database_path")).fetchone()
    path = row[0] if row else None
    return Path(path).resolve() if path else None


#: One window at a time in this process: connections of one process to a file share one DuckDB
#: instance, so its lock keeps out other processes only; threads (one per shop) take turns here.
#: Reentrant: a window opened inside another (a load entered during the start reads) nests.
_WINDOWS = threading.RLock()


class Access:
    """How one sync reaches the warehouse: a connection held throughout, or an Opener.

    Given a connection, every window is that connection (the caller opened it and closes it).
    Given an Opener, each window opens the file and closes it after, so the file is free between
    windows: one window at a time per process, and another process's lock is waited on for at
    most `wait` seconds (default $PREORDERS_WINDOW_LOCK_WAIT_S, else WINDOW_LOCK_WAIT_S = 600 s,
    on top of the opener's own wait), so many shops finishing together all commit in turn.
    """

    def __init__(
        self,
        warehouse: Connectable,
        *,
        wait: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.held: duckdb.DuckDBPyConnection | None = None
        self.opener: Opener | None = None
        if isinstance(warehouse, duckdb.DuckDBPyConnection):
            self.held = warehouse
        else:
            self.opener = warehouse
        self.wait = (
            lock_wait_from_env(WINDOW_LOCK_WAIT_S, WINDOW_LOCK_WAIT_ENV) if wait is None else wait
        )
        self._sleep, self._clock = sleep, clock
        self._database: tuple[Path | None] | None = None  # known after the first window
        self._open_in: tuple[int, duckdb.DuckDBPyConnection] | None = None  # (thread, conn)

    @contextmanager
    def window(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for the block: the held one, or one opened now and closed after (a
        window opened inside another on the same thread is that one)."""
        if self.held is not None:
            yield self.held
            return
        thread = threading.get_ident()
        if self._open_in is not None and self._open_in[0] == thread:
            yield self._open_in[1]
            return
        with _WINDOWS, ExitStack() as stack:
            conn = self._open(stack)
            if self._database is None:
                self._database = (database_file(conn),)
            self._open_in = (thread, conn)
            try:
                yield conn
            finally:
                self._open_in = None

    def database(self) -> Path | None:
        """The database file (None: in memory), as the first window found it (opened if need be)."""
        if self.held is not None:
            return database_file(self.held)
        if self._database is None:
            with self.window():
                pass
        assert self._database is not None
        return self._database[0]

    def _open(self, stack: ExitStack) -> duckdb.DuckDBPyConnection:
        """Enter the opener's context, again while another process holds the lock (bounded)."""
        assert self.opener is not None
        deadline = self._clock() + self.wait
        pause = _FIRST_PAUSE
        while True:
            try:
                return stack.enter_context(self.opener())
            except (WarehouseLocked, duckdb.Error) as exc:
                left = deadline - self._clock()
                if not is_locked(exc):
                    raise
                if left <= 0:
                    exc.add_note(f"waited {self.wait:g}s in all ({WINDOW_LOCK_WAIT_ENV} sets it)")
                    raise
            self._sleep(min(pause, left))
            pause = min(pause * 2, _LONGEST_PAUSE)


def access(warehouse: Connectable | Access) -> Access:
    """`warehouse` as an Access (an Access is returned as it is)."""
    return warehouse if isinstance(warehouse, Access) else Access(warehouse)
