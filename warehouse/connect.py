"""Open the warehouse file: a permanent local error fails at once, a lock is waited on (bounded).

DuckDB lets one process write a file at a time; another process's lock is the one failure that
goes away by itself, so only it is retried, for at most `lock_wait` seconds. A directory, a file
that is not a DuckDB database, a file or folder we may not write, a folder that cannot be made:
retrying those only hides them, so they raise `WarehouseUnavailable` naming the path and cause.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from warehouse.errors import WarehouseLocked, WarehouseUnavailable

LOCK_WAIT_S = 30.0
LOCK_WAIT_ENV = "PREORDERS_LOCK_WAIT_S"
_LOCKED = ("Could not set lock on file", "Conflicting lock")
_FIRST_PAUSE, _LONGEST_PAUSE = 0.05, 1.0


def lock_wait_from_env(default: float = LOCK_WAIT_S) -> float:
    """Seconds to wait for another process's lock: $PREORDERS_LOCK_WAIT_S, else `default`."""
    raw = os.environ.get(LOCK_WAIT_ENV, "").strip()
    if not raw:
        return default
    try:
        wait = float(raw)
    except ValueError:
        raise ValueError(f"{LOCK_WAIT_ENV} must be a number of seconds (got {raw!r})") from None
    if not wait >= 0 or wait == float("inf"):
        raise ValueError(f"{LOCK_WAIT_ENV} must be a number of seconds >= 0 (got {raw!r})")
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
            if not any(marker in text for marker in _LOCKED):
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
    if "not a valid DuckDB database file" in text:
        return f"{where} is not a DuckDB database file"
    if "Is a directory" in text:
        return f"{where} is a directory, not a DuckDB file"
    if "Permission denied" in text or "Read-only file system" in text:
        return f"{where} cannot be opened for writing (read-only or permission denied): {text}"
    return f"{where} cannot be opened: {text}"
