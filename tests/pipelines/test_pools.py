"""DuckDB has one writer: every step that opens the warehouse is in the `duckdb_writer` pool, and
the Dagster home the project writes (pipelines/dagster.yaml) gives that pool one slot, so two
writers in two runs queue for the slot instead of failing on the file lock."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import NamedTuple

import dagster as dg

from assets.resources import POOL
from pipelines.cli_support import MINIMAL_DAGSTER_YAML, ensure_dagster_home
from pipelines.definitions import defs
from pipelines.ops.poll_job import attach_job
from pipelines.resources import WarehouseResource

HOLD_S = 2.0  # how long a writer holds the file


def warehouse_steps() -> dict[str, dg.OpDefinition]:
    """Every op of every job, asset and asset check that needs the warehouse."""
    ops = {op.name: op for job in defs.resolve_all_job_defs() for op in job.graph.iterate_op_defs()}
    ops[attach_job.name] = attach_job  # in no job yet: names a job by hand
    return {name: op for name, op in ops.items() if "warehouse" in op.required_resource_keys}


#: The sync multi-assets hold the file only for their start reads and their merge (which waits on
#: DuckDB's lock): out of the pool, so different shops' walks overlap.
UNPOOLED = {"orders_assets", "offers_assets"}


def test_every_asset_and_op_that_opens_the_warehouse_is_in_the_pool() -> None:
    steps = warehouse_steps()
    expected = {"backlog_report", "release_held_orders"}
    expected |= {"charge_balances", "submit_export", "load_export", "poll_job", "attach_job"}
    expected |= {"submit_variant_action", "review_ledger", "settle_ledger_row"}
    assert expected | UNPOOLED <= set(steps)
    assert {name: op.pool for name, op in steps.items() if op.pool != POOL} == {
        name: None for name in UNPOOLED
    }


def test_the_dagster_yaml_gives_every_pool_one_slot(tmp_path: Path) -> None:
    home = ensure_dagster_home(tmp_path / "home")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert not instance.telemetry_enabled
    assert (home / "dagster.yaml").read_text() == MINIMAL_DAGSTER_YAML


# -- two writers, two runs, one Dagster instance --------------------------------------------------


HOLDING = threading.Event()  # set while a writer holds the file


@dg.op(pool=POOL)
def hold_the_warehouse(warehouse: WarehouseResource) -> None:
    """Open the DuckDB file for writing and keep it for HOLD_S."""
    with warehouse.get_connection() as conn:
        HOLDING.set()
        conn.execute("CREATE TABLE IF NOT EXISTS writer_windows (ended DOUBLE)")
        time.sleep(HOLD_S)
        conn.execute("INSERT INTO writer_windows VALUES (?)", [time.time()])


@dg.job(executor_def=dg.in_process_executor)
def write_the_warehouse() -> None:
    hold_the_warehouse()


class Writer(NamedTuple):
    """One finished run: whether it succeeded, its step's window (start, end), its messages."""

    success: bool
    window: tuple[float, float]
    messages: list[str]


def run_two_writers(home: Path, db: Path) -> list[Writer]:
    """Two runs of `write_the_warehouse`, each in a thread of its own with its own instance over
    the Dagster home `home` (as two run workers would have); the second is launched once the
    first holds the file (a run's start reconfigures logging, which is not thread-safe)."""
    writers: list[Writer] = []
    with dg.DagsterInstance.from_config(str(home)) as instance:  # create its storage first
        assert instance.event_log_storage.supports_global_concurrency_limits

    def run() -> None:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            result = write_the_warehouse.execute_in_process(
                instance=instance,
                resources={"warehouse": WarehouseResource(database=str(db))},
                raise_on_error=False,
            )
            logs = instance.all_logs(result.run_id)
        at = {e.dagster_event_type: e.timestamp for e in logs if e.is_dagster_event}
        window = (at[dg.DagsterEventType.STEP_START], at[dg.DagsterEventType.STEP_SUCCESS])
        writers.append(Writer(result.success, window, [e.message for e in logs]))

    HOLDING.clear()
    threads = [threading.Thread(target=run) for _ in range(2)]
    threads[0].start()
    assert HOLDING.wait(timeout=30), "the first writer never opened the file"
    threads[1].start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(writers) == 2, "a run did not finish within a minute"
    return writers


BLOCKED = f"Step blocked by limit for pool {POOL}"


def test_two_writers_queue_for_the_pool_slot(tmp_path: Path) -> None:
    writers = run_two_writers(ensure_dagster_home(tmp_path / "home"), tmp_path / "w.duckdb")

    assert [w.success for w in writers] == [True, True]
    first, second = sorted(w.window for w in writers)
    assert second[0] >= first[1]  # the second step started only after the first one ended
    assert [BLOCKED in w.messages for w in writers] == [False, True]


def test_without_the_pool_limit_the_two_writers_overlap(tmp_path: Path) -> None:
    """The control: on a home without `concurrency:` the two steps hold the file at once (two
    processes would fail on DuckDB's lock; threads of one process share the open database)."""
    home = tmp_path / "unlimited"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    writers = run_two_writers(home, tmp_path / "w.duckdb")

    assert [w.success for w in writers] == [True, True]
    first, second = sorted(w.window for w in writers)
    assert second[0] < first[1]
    assert not any(BLOCKED in w.messages for w in writers)
