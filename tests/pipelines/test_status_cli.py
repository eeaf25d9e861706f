"""`preorders status` as a subprocess: no key, no network, never creates a missing warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

import warehouse.schema
from tests.assets.helpers import make_shop, run_sync
from tests.pipelines.cli_helpers import cli_env, free_port, run_cli


@pytest.fixture(scope="module")
def synced_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file synced from a 120-order sandbox shop (offers, then a full orders walk)."""
    db = tmp_path_factory.mktemp("status_cli") / "preorders.duckdb"
    run_sync(make_shop(120), db)
    return db


def env_for(tmp_path: Path, db: Path) -> dict[str, str]:
    """No STOQ_API_KEY (cli_env drops it) and a base URL nothing listens on: nothing is asked."""
    return cli_env(
        tmp_path, PREORDERS_DUCKDB_PATH=str(db), STOQ_BASE_URL=f"http://127.0.0.1:{free_port()}"
    )


def test_a_synced_warehouse_prints_its_streams_and_exits_0(tmp_path, synced_db) -> None:
    done = run_cli(env_for(tmp_path, synced_db), "status")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"warehouse   {synced_db}"
    labels = [line.split()[0] for line in lines]
    assert labels == ["warehouse", "offers", "orders", "releasable", "ledger", "jobs"]
    orders = lines[labels.index("orders")]
    assert "full sync succeeded" in orders and "120 rows" in orders and "high-water mark" in orders
    assert lines[-2:] == ["ledger      0 open", "jobs        0 in flight"]
    assert done.stderr == ""


def test_json_parses_and_has_the_keys(tmp_path, synced_db) -> None:
    done = run_cli(env_for(tmp_path, synced_db), "status", "--json")
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["synced"] is True and facts["warehouse"] == str(synced_db)
    assert set(facts["streams"]) == {"offers", "orders"}
    orders = facts["streams"]["orders"]
    assert {"mode", "outcome", "age_s", "high_water_mark", "rows"} <= set(orders)
    assert orders["rows"] == 120
    assert {"now", "in_view", "in_ledger", "retries_waiting"} == set(facts["releasable"])
    assert facts["ledger_open"] == {"planned": 0, "sent": 0, "unknown": 0}
    assert facts["jobs_in_flight"] == []


@pytest.mark.parametrize("as_json", [False, True])
def test_a_missing_warehouse_exits_1_naming_it_and_is_not_created(tmp_path, as_json) -> None:
    db = tmp_path / "nowhere" / "preorders.duckdb"
    done = run_cli(env_for(tmp_path, db), "status", *(["--json"] if as_json else []))
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.startswith("preorders status: the warehouse ")
    assert str(db) in done.stderr and "never synced (no such file)" in done.stderr
    assert not db.parent.exists()  # neither the file nor its folder
    if as_json:
        assert json.loads(done.stdout) == {
            "warehouse": str(db), "synced": False, "error": done.stderr.split(": ", 1)[1].strip()
        }  # fmt: skip
    else:
        assert done.stdout == ""


def test_a_warehouse_with_no_sync_runs_exits_1(tmp_path) -> None:
    db = tmp_path / "empty.duckdb"
    with duckdb.connect(str(db)) as conn:
        warehouse.schema.apply(conn)
    done = run_cli(env_for(tmp_path, db), "status")
    assert done.returncode == 1
    assert f"the warehouse {db} was never synced (no sync runs recorded)" in done.stderr
