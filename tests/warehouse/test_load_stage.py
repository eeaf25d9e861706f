"""loads' stage: Parquet files off the transaction, one short merge, cleanup after any ending."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.warehouse.factory import order
from warehouse import schema, stage
from warehouse.errors import LoadInProgress, LoadStateError
from warehouse.frames import order_frames
from warehouse.loads import OffersLoad, OrdersLoad

T0 = datetime(2025, 8, 1, 12, 0, tzinfo=UTC)
TABLES = ("orders", "order_line_items", "order_state_history", "_rejects", "sync_state")
TABLES += ("sync_runs",)


def snapshot(conn: duckdb.DuckDBPyConnection) -> dict[str, list[Any]]:
    return {t: conn.execute(f"select * from {t} order by all").fetchall() for t in TABLES}


def stage_root(tmp_path: Path, shop: str = "default") -> Path:
    return tmp_path / ".stage" / "warehouse.duckdb" / shop / "orders"


def test_nothing_changes_before_finish_and_the_stage_is_removed_after(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    with OrdersLoad(conn, run_id="r1", synced_at=T0) as first:
        first.add(order_frames([order(1), order(2), order(3)]))
        first.finish()
    before = snapshot(conn)
    later = T0 + timedelta(hours=1)
    with OrdersLoad(conn, run_id="r2", synced_at=later, flush_rows=1) as load:
        load.add(order_frames([order(1, state="released"), order(4)]))
        load.add(order_frames([order(5), order(6, payments={"deposit": "??"})]))
        assert load.mark_missing() == 2  # orders 2 and 3, counted before anything is written
        files = sorted(p.name for p in (stage_root(tmp_path) / "r2").iterdir())
        assert "orders-000001.parquet" in files and "line_items-000002.parquet" in files
        assert "rejects-000002.parquet" in files
        assert snapshot(conn) == before  # a second read through the same connection
        load.finish()
    assert not (tmp_path / ".stage").exists()
    assert (load.counts.inserted, load.counts.updated, load.counts.unchanged) == (2, 1, 0)
    assert (load.counts.rejected, load.counts.state_changes, load.counts.missing) == (1, 3, 2)
    after = snapshot(conn)
    assert after != before
    assert len(after["_rejects"]) == 1


def test_an_exception_removes_the_stage_and_keeps_the_snapshot(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    with OrdersLoad(conn, run_id="r1", synced_at=T0) as first:
        first.add(order_frames([order(1)]))
        first.finish()
    before = snapshot(conn)
    with pytest.raises(RuntimeError, match="walk broke"), OrdersLoad(conn, run_id="r2") as load:
        load.add(order_frames([order(2)]))
        load.flush()
        assert (stage_root(tmp_path) / "r2").is_dir()
        raise RuntimeError("walk broke")
    assert not (tmp_path / ".stage").exists()
    after = snapshot(conn)
    assert after["sync_runs"][-1][-2] == "failed"
    assert {k: v for k, v in after.items() if k != "sync_runs"} == {
        k: v for k, v in before.items() if k != "sync_runs"
    }


def test_a_failing_finish_rolls_back_everything_and_removes_the_stage(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    with (
        pytest.raises(ValueError, match="unknown sync_runs stats"),
        OrdersLoad(conn, run_id="r1") as load,
    ):
        load.add(order_frames([order(1)]))
        load.finish(stats={"pagez": 1})
    assert not (tmp_path / ".stage").exists()
    assert conn.execute("select count(*) from orders").fetchone() == (0,)


def test_a_killed_runs_stage_is_cleared_by_the_next_load_and_does_not_leak(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    killed = stage.Stage(conn, "orders", "killed-run")  # as a process killed mid-walk left it
    killed.write("orders", "stage_orders", order_frames([order(9)]).orders, 1)
    killed.seal()
    assert killed._lock is not None and killed._stream_lock is not None
    os.close(killed._lock)  # that process is gone: the OS dropped its locks, its files stay
    os.close(killed._stream_lock)
    orphan = stage_root(tmp_path) / "no-lock-run"  # a dir with no lock file at all: dead too
    orphan.mkdir()
    assert (stage_root(tmp_path) / "killed-run" / "orders-000001.parquet").exists()
    with OrdersLoad(conn, run_id="next", synced_at=T0) as load:
        assert not (stage_root(tmp_path) / "killed-run").exists()  # cleared at the start
        assert not (stage_root(tmp_path) / "killed-run.lock").exists()
        assert not orphan.exists()
        load.add(order_frames([order(1)]))
        load.mark_missing()
        load.finish()
    assert conn.execute("select id from orders").fetchall() == [(1,)]
    assert load.counts.inserted == 1
    assert not (tmp_path / ".stage").exists()


def test_raw_text_is_byte_identical_and_types_are_exact(conn: duckdb.DuckDBPyConnection) -> None:
    rec = order(1, name="#Ünïcode ✓", tags=["a", "b"])
    with OrdersLoad(conn, run_id="r1", synced_at=T0) as load:
        load.add(order_frames([rec, order(2, tags=[], customer={"id": None})]))
        load.finish()
    raw, md5, tags = conn.execute(
        "select raw::varchar, md5(raw::varchar), tags from orders where id = 1"
    ).fetchone()  # type: ignore[misc]
    assert raw == json.dumps(rec)
    assert md5 == conn.execute("select md5(?)", [json.dumps(rec)]).fetchone()[0]  # type: ignore[index]
    assert tags == ["a", "b"]
    second = conn.execute("select tags, customer_id from orders where id = 2").fetchone()
    assert second == ([], None)


def test_the_same_order_staged_twice_keeps_the_later_file(conn: duckdb.DuckDBPyConnection) -> None:
    with OrdersLoad(conn, run_id="r1", synced_at=T0, flush_rows=1) as load:
        load.add(order_frames([order(1, state="placed", lines=[("x", 1), ("y", 2)])]))
        load.add(order_frames([order(1, state="released", lines=[("z", 3)])]))
        load.finish()
    assert conn.execute("select state from orders").fetchall() == [("released",)]
    lines = conn.execute("select line_index, offer_id from order_line_items").fetchall()
    assert lines == [(0, "z")]
    assert (load.counts.inserted, load.counts.state_changes) == (1, 1)


def test_an_order_added_after_mark_missing_ids_is_not_missing(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    with OrdersLoad(conn, run_id="r1", synced_at=T0) as first:
        first.add(order_frames([order(1), order(2)]))
        first.finish()
    with OrdersLoad(conn, run_id="r2", mode="incremental", synced_at=T0) as load:
        assert load.mark_missing_ids([1, 2]) == 2
        load.add(order_frames([order(2)]))  # seen after all, as a merge at once would have
        load.finish()
    assert load.counts.missing == 1
    flags = conn.execute("select id, missing_from_api from orders order by id").fetchall()
    assert flags == [(1, True), (2, False)]


def test_finish_restores_duckdb_settings_and_survives_running_out_of_memory(
    conn: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = "select current_setting('memory_limit'), current_setting('threads')"
    before = conn.execute(settings).fetchone()
    monkeypatch.setattr(stage, "FINISH_MEMORY_FLOOR", 2**20)  # 1 MiB: the merge cannot fit
    monkeypatch.setattr(stage, "FINISH_MEMORY_PER_ROW_GROUP", 0.0)
    with OrdersLoad(conn, run_id="r1", synced_at=T0) as load:
        load.add(order_frames([order(i) for i in range(1, 2001)]))
        load.finish()
    assert load.counts.inserted == 2000  # rolled back and run again unbounded
    assert conn.execute("select count(*) from orders").fetchone() == (2000,)
    assert conn.execute(settings).fetchone() == before
    with OrdersLoad(conn, run_id="r2", synced_at=T0) as again:
        again.finish()
    assert conn.execute(settings).fetchone() == before  # no drift from DuckDB's rounded text


def test_an_in_memory_warehouse_stages_in_a_temp_dir(tmp_path: Path) -> None:
    memory = duckdb.connect()
    schema.apply(memory)
    with OrdersLoad(memory, run_id="r1", synced_at=T0) as load:
        load.add(order_frames([order(1)]))
        load.flush()
        assert load._stage is not None
        folder = load._stage.dir
        assert folder.is_dir() and any(folder.iterdir())
        load.finish()
    assert not folder.exists()
    assert memory.execute("select count(*) from orders").fetchone() == (1,)
    memory.close()


def test_a_load_leaves_the_stage_of_another_warehouse_in_the_same_folder_alone(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # A load on demo.duckdb in the same folder, as if run by another process, is mid-walk...
    demo = duckdb.connect(str(tmp_path / "demo.duckdb"))
    schema.apply(demo)
    with OrdersLoad(demo, run_id="theirs", synced_at=T0) as theirs:
        theirs.add(order_frames([order(7)]))
        theirs.flush()
        with OrdersLoad(conn, run_id="ours", synced_at=T0) as ours:
            ours.add(order_frames([order(1)]))
            ours.finish(stats={"pages": 1})
        theirs.finish(stats={"pages": 1})  # its stage survived our load
    assert demo.execute("select id from orders").fetchall() == [(7,)]
    demo.close()


# -- several processes and shops: stages under a per-shop dir, live ones locked ----------------

LIVE_STAGE = """
import os, sys
from pathlib import Path
from tests.warehouse.factory import order
from warehouse.frames import order_frames
from warehouse.stage import Stage
stage = Stage(Path(sys.argv[1]), "orders", "theirs")
stage.write("orders", "stage_orders", order_frames([order(7)]).orders, 1)
print("staged", flush=True)
sys.stdin.read()  # mid-walk until the test closes our stdin...
os._exit(0)  # ...then killed: no cleanup
"""


def test_a_live_load_of_another_process_refuses_ours_and_its_stage_survives(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    database = tmp_path / "warehouse.duckdb"
    child = subprocess.Popen(
        [sys.executable, "-c", LIVE_STAGE, str(database)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    theirs = stage_root(tmp_path) / "theirs" / "orders-000001.parquet"
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "staged"
        # Another sync of the same shop's orders is mid-walk: ours stops before staging a row,
        # rather than walking beside it and merging one snapshot over the other.
        with (
            pytest.raises(LoadInProgress, match="another sync of shop default's orders"),
            OrdersLoad(conn, run_id="ours", synced_at=T0) as load,
        ):
            load.add(order_frames([order(1)]))
            load.finish()
        assert theirs.exists()  # its locks are held: a live load's stage is never cleared
        assert conn.execute("select count(*) from orders").fetchone() == (0,)
        with OffersLoad(conn, run_id="ours", synced_at=T0) as offers:  # another stream: free
            offers.finish()
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
    assert theirs.exists()  # the process died without cleaning up
    with OrdersLoad(conn, run_id="next", synced_at=T0) as load:
        assert not theirs.parent.exists()  # dead now: cleared
        load.add(order_frames([order(1)]))
        load.finish()
    assert load.counts.inserted == 1
    assert not (tmp_path / ".stage").exists()


def test_two_shops_loads_of_one_run_stage_apart(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    with (
        OrdersLoad(conn, run_id="r1", synced_at=T0, shop="eu") as eu,
        OrdersLoad(conn, run_id="r1", synced_at=T0, shop="us") as us,
    ):
        eu.add(order_frames([order(1)]))
        us.add(order_frames([order(1), order(2)]))
        eu.flush()
        us.flush()
        assert (stage_root(tmp_path, "eu") / "r1" / "orders-000001.parquet").exists()
        assert (stage_root(tmp_path, "us") / "r1" / "orders-000001.parquet").exists()
        eu.finish()
        us.finish()
    rows = conn.execute("select shop, count(*) from orders group by shop order by shop").fetchall()
    assert rows == [("eu", 1), ("us", 2)]
    assert not (tmp_path / ".stage").exists()


def test_a_second_live_load_of_a_stream_is_refused_whatever_its_run(
    conn: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stage, "STREAM_WAIT_S", 0.2)
    with OrdersLoad(conn, run_id="r1", synced_at=T0) as first:
        for run_id in ("r1", "r2"):
            with pytest.raises(LoadInProgress, match="is running on this warehouse"):
                OrdersLoad(conn, run_id=run_id, synced_at=T0).__enter__()
        first.add(order_frames([order(1)]))
        first.finish()  # its stage was left alone
    assert first.counts.inserted == 1
    with OrdersLoad(conn, run_id="r3", synced_at=T0) as after:  # the stream is free again
        after.add(order_frames([order(2)]))
        after.finish()
    assert after.counts.inserted == 1


# -- a load given an opener: the file is open only to merge -------------------------------------

PROBE = """
import sys, duckdb
duckdb.connect(sys.argv[1]).close()
"""


def free_for_others(path: Path) -> bool:
    """Whether another process can open `path` read-write now."""
    child = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, timeout=60
    )
    return child.returncode == 0


def test_a_load_given_an_opener_leaves_the_file_free_until_finish(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as setup:
        schema.apply(setup)
        with OrdersLoad(setup, run_id="r1", synced_at=T0) as first:
            first.add(order_frames([order(1), order(2), order(3)]))
            first.finish()
    opens: list[int] = []

    def opener() -> contextlib.closing[duckdb.DuckDBPyConnection]:
        opens.append(1)
        return contextlib.closing(duckdb.connect(str(path)))

    with OrdersLoad(opener, run_id="r2", synced_at=T0, flush_rows=1) as load:
        load.add(order_frames([order(1, state="released"), order(4)]))
        assert load.mark_missing() is None  # not counted mid-walk: the file is not opened
        assert free_for_others(path)
        with pytest.raises(LoadStateError, match="open only to finish"):
            _ = load.conn
        load.finish(stats={"pages": 1})
    assert free_for_others(path)
    assert len(opens) == 2  # the stage's database path, then the merge
    assert (load.counts.inserted, load.counts.updated, load.counts.missing) == (1, 1, 2)
    with duckdb.connect(str(path)) as after:
        assert after.execute("select count(*) from orders where missing_from_api").fetchone() == (
            2,
        )
        assert after.execute("select outcome from sync_runs where run_id = 'r2'").fetchone() == (
            "succeeded",
        )
    assert not (tmp_path / ".stage").exists()


def test_a_failed_load_given_an_opener_records_the_failure_in_a_window(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as setup:
        schema.apply(setup)

    def opener() -> contextlib.closing[duckdb.DuckDBPyConnection]:
        return contextlib.closing(duckdb.connect(str(path)))

    with pytest.raises(RuntimeError, match="walk broke"), OrdersLoad(opener, run_id="r1") as load:
        load.add(order_frames([order(1)]))
        raise RuntimeError("walk broke")
    assert free_for_others(path)
    with duckdb.connect(str(path)) as after:
        assert after.execute("select outcome from sync_runs").fetchall() == [("failed",)]
        assert after.execute("select count(*) from orders").fetchone() == (0,)
    assert not (tmp_path / ".stage").exists()
