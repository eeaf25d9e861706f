"""connect: permanent local errors fail at once; only another process's lock is waited on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from warehouse.connect import Access, access, connect, lock_wait_from_env
from warehouse.errors import WarehouseLocked, WarehouseUnavailable

#: Far below a retry storm (dagster's backoff took 104-209 s), far above a normal open.
FAST = 5.0

HOLD = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


def start_holder(path: Path) -> subprocess.Popen[str]:
    """Another process holding `path` open (and locked) until `release(child)`."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None and child.stdout.readline().strip() == "holding"
    return child


def release(child: subprocess.Popen[str]) -> None:
    """Let the holder close the file and end."""
    assert child.stdin is not None
    child.stdin.close()
    child.wait(timeout=30)


def failure(path: str, **kwargs) -> tuple[WarehouseUnavailable, float]:
    """The error connect() raises for `path`, and how long it took."""
    started = time.monotonic()
    with pytest.raises(WarehouseUnavailable) as caught:
        connect(path, **kwargs)
    return caught.value, time.monotonic() - started


def test_a_directory_fails_at_once_naming_the_path(tmp_path):
    error, took = failure(str(tmp_path), label="PREORDERS_DUCKDB_PATH")
    assert str(error) == f"PREORDERS_DUCKDB_PATH {tmp_path} is a directory, not a DuckDB file"
    assert isinstance(error, OSError) and not isinstance(error, WarehouseLocked)
    assert took < FAST


def test_a_file_that_is_not_duckdb_fails_at_once(tmp_path):
    text = tmp_path / "notes.duckdb"
    text.write_text("hello, not a database\n" * 100)
    error, took = failure(str(text))
    assert str(error) == f"DuckDB path {text} is not a DuckDB database file"
    assert took < FAST
    assert text.read_text().startswith("hello")  # untouched


def test_a_folder_that_cannot_be_made_fails_at_once(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    error, took = failure(str(blocker / "sub" / "w.duckdb"))
    assert f"its folder {blocker / 'sub'} cannot be made" in str(error)
    assert took < FAST


def test_a_missing_folder_is_made(tmp_path):
    conn = connect(str(tmp_path / "a" / "b" / "w.duckdb"))
    assert conn.execute("select 42").fetchone() == (42,)
    conn.close()


def test_a_read_only_file_fails_at_once(tmp_path):
    path = tmp_path / "ro.duckdb"
    duckdb.connect(str(path)).close()
    path.chmod(0o444)
    if os.geteuid() != 0:
        error, took = failure(str(path))
        assert "cannot be opened for writing" in str(error) and took < FAST
        return
    # root ignores file modes; a child without CAP_DAC_OVERRIDE does not
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file read-only for us")
    probe = "from warehouse.connect import connect; import sys; connect(sys.argv[1])"
    started = time.monotonic()
    child = subprocess.run(
        [setpriv, "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-c", probe,
         str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    took = time.monotonic() - started
    assert child.returncode != 0
    last = child.stderr.strip().splitlines()[-1]
    assert last.startswith("warehouse.errors.WarehouseUnavailable: DuckDB path")
    assert "cannot be opened for writing (read-only or permission denied)" in last
    assert took < FAST + 5  # the child's interpreter start included


@pytest.fixture
def held(tmp_path) -> Iterator[Path]:
    """A DuckDB file another process keeps open (and locked) until the test ends."""
    path = tmp_path / "held.duckdb"
    child = start_holder(path)
    try:
        yield path
    finally:
        release(child)


def test_a_lock_is_waited_on_for_lock_wait_then_fails_saying_so(held):
    error, took = failure(str(held), lock_wait=1.0)
    assert isinstance(error, WarehouseLocked) and error.waited == 1.0
    assert "is locked by another process" in str(error)
    assert "gave up after waiting 1s (PREORDERS_LOCK_WAIT_S sets the wait)" in str(error)
    assert 1.0 <= took < FAST


def test_the_lock_wait_pauses_briefly_and_stops_at_the_deadline(held):
    now = [0.0]
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    with pytest.raises(WarehouseLocked):
        connect(str(held), lock_wait=10.0, sleep=sleep, clock=lambda: now[0])
    assert pauses[0] == 0.05 and max(pauses) <= 1.0
    assert sum(pauses) == pytest.approx(10.0)


def test_a_lock_released_during_the_wait_is_taken(tmp_path):
    path = tmp_path / "w.duckdb"
    child = start_holder(path)
    released: list[bool] = []

    def sleep(seconds: float) -> None:
        if not released:  # the other process finishes while we wait
            release(child)
            released.append(True)
        time.sleep(seconds)

    conn = connect(str(path), lock_wait=30.0, sleep=sleep)
    assert released and conn.execute("select 1").fetchone() == (1,)
    conn.close()


@pytest.mark.parametrize(("raw", "wait"), [("", 30.0), ("2.5", 2.5), (" 0 ", 0.0)])
def test_lock_wait_comes_from_the_environment(monkeypatch, raw, wait):
    monkeypatch.setenv("PREORDERS_LOCK_WAIT_S", raw)
    assert lock_wait_from_env() == wait


@pytest.mark.parametrize("raw", ["soon", "-1", "nan", "inf"])
def test_a_bad_lock_wait_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("PREORDERS_LOCK_WAIT_S", raw)
    with pytest.raises(ValueError, match="PREORDERS_LOCK_WAIT_S must be a number of seconds"):
        lock_wait_from_env()


# -- Access: a held connection, or an opener used in short windows ----------------------------

PROBE = """
import sys, duckdb
duckdb.connect(sys.argv[1]).close()  # read-write: fails while another process holds the file
"""


def free_for_others(path: Path) -> bool:
    """Whether another process can open `path` read-write now."""
    child = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, timeout=60
    )
    return child.returncode == 0


def test_an_opener_holds_the_file_only_inside_a_window(tmp_path):
    path = tmp_path / "w.duckdb"
    opened: list[int] = []

    def opener():
        opened.append(1)
        return closing(duckdb.connect(str(path)))

    reach = access(opener)
    assert access(reach) is reach and reach.held is None
    with reach.window() as conn:
        conn.execute("create table t (x integer)")
        assert not free_for_others(path)  # the probe does see a held file
    assert free_for_others(path)  # closed after the window
    assert reach.database() == path.resolve()  # from the first window: no new open
    assert len(opened) == 1


def test_a_connection_is_every_window_and_stays_open(tmp_path):
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    reach = Access(conn)
    with reach.window() as first, reach.window() as second:
        assert first is second is conn
    assert conn.execute("select 1").fetchone() == (1,)
    assert reach.database() == (tmp_path / "w.duckdb").resolve()
    conn.close()


def test_a_window_waits_past_the_openers_own_wait_for_another_process(tmp_path):
    path = tmp_path / "w.duckdb"
    child = start_holder(path)
    tries: list[int] = []

    def opener():  # gives up at once, as an opener with PREORDERS_LOCK_WAIT_S=0 does
        tries.append(1)
        return closing(connect(str(path), lock_wait=0))

    def sleep(seconds: float) -> None:
        if len(tries) == 3:  # the other process's merge ends while we wait
            release(child)
        time.sleep(seconds)

    with Access(opener, wait=60, sleep=sleep).window() as conn:
        assert conn.execute("select 42").fetchone() == (42,)
    assert len(tries) >= 4


def test_a_window_gives_up_after_its_wait_saying_which_setting(held):
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    reach = Access(
        lambda: closing(connect(str(held), lock_wait=0)), wait=5, sleep=sleep, clock=lambda: now[0]
    )
    with pytest.raises(WarehouseLocked) as caught, reach.window():
        pass
    assert "waited 5s in all (PREORDERS_WINDOW_LOCK_WAIT_S sets it)" in caught.value.__notes__
    assert now[0] == pytest.approx(5.0)


def test_a_window_fails_at_once_on_anything_but_a_lock(tmp_path):
    tries: list[int] = []

    def opener():
        tries.append(1)
        return closing(connect(str(tmp_path)))  # a directory

    with pytest.raises(WarehouseUnavailable, match="is a directory"), Access(opener).window():
        pass
    assert tries == [1]


def test_the_window_wait_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PREORDERS_WINDOW_LOCK_WAIT_S", "42")
    assert Access(lambda: closing(duckdb.connect())).wait == 42.0
    monkeypatch.delenv("PREORDERS_WINDOW_LOCK_WAIT_S")
    assert Access(lambda: closing(duckdb.connect())).wait == 600.0


def test_an_empty_file_another_process_is_creating_is_waited_on(tmp_path):
    path = tmp_path / "w.duckdb"
    path.touch()  # another process made the file and has not written DuckDB's header yet
    made = tmp_path / "made.duckdb"
    duckdb.connect(str(made)).close()
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            os.replace(made, path)  # its header is written now

    conn = connect(str(path), lock_wait=30.0, sleep=sleep)
    assert conn.execute("select 1").fetchone() == (1,) and len(pauses) == 2
    conn.close()


def test_an_empty_file_that_stays_empty_fails_after_the_wait(tmp_path):
    path = tmp_path / "w.duckdb"
    path.touch()
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    error, _ = failure(str(path), lock_wait=3.0, sleep=sleep, clock=lambda: now[0])
    assert str(error) == f"DuckDB path {path} is not a DuckDB database file"
    assert not isinstance(error, WarehouseLocked) and now[0] == pytest.approx(3.0)
