"""Commands that need a synced warehouse refuse one that never synced, naming its file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import warehouse.schema
from preorders.status import NeverSynced, require_synced
from tests.pipelines.cli_helpers import cli_env, run_cli


@pytest.mark.parametrize("command", [["release", "--dry-run"], ["charge"], ["report"]])
def test_a_never_synced_warehouse_is_refused_naming_its_file(
    tmp_path: Path, command: list[str]
) -> None:
    db = tmp_path / "fresh.duckdb"
    done = run_cli(cli_env(tmp_path, PREORDERS_DUCKDB_PATH=str(db)), *command)
    assert done.returncode == 1, done.stdout
    (line,) = done.stderr.strip().splitlines()
    assert str(db) in line and "never synced" in line and "preorders sync" in line
    assert "nothing to do" not in done.stdout


def test_require_synced_names_the_streams_that_never_succeeded(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as conn:
        warehouse.schema.apply(conn)
        with pytest.raises(NeverSynced, match="no successful sync of offers, orders"):
            require_synced(conn, str(db))
        conn.execute(
            "insert into sync_runs (run_id, stream, mode, outcome, started_at, finished_at) "
            "values ('r', 'orders', 'full', 'succeeded', now(), now())"
        )
        require_synced(conn, str(db), ("orders",))  # the orders stream alone is enough here
        with pytest.raises(NeverSynced, match="no successful sync of offers$|offers\\)"):
            require_synced(conn, str(db))
