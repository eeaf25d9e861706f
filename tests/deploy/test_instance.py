"""deploy/dagster.yaml and deploy/workspace.yaml through Dagster's own validation, on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.workspace.config_schema import ensure_workspace_config
from dagster_postgres import (
    PostgresEventLogStorage,
    PostgresRunStorage,
    PostgresScheduleStorage,
)

from tests.deploy.helpers import DEPLOY, ROOT, Postgres, deploy_env, deploy_home

SHOP_LIMIT = {"key": "stoq/shop", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}


@pytest.fixture
def instance(tmp_path: Path, postgres: Postgres, pg_db: str, monkeypatch: pytest.MonkeyPatch):
    """`DagsterInstance.get()` over a DAGSTER_HOME holding deploy/dagster.yaml, on `pg_db`."""
    for key, value in deploy_env(deploy_home(tmp_path), postgres, pg_db).items():
        monkeypatch.setenv(key, value)
    with dg.DagsterInstance.get() as inst:
        yield inst


def tables(postgres: Postgres, db: str) -> set[str]:
    with postgres.connect(db) as conn:
        rows = conn.execute("select tablename from pg_tables where schemaname = 'public'")
        return {name for (name,) in rows}


def test_the_instance_keeps_runs_events_and_schedules_in_postgresql(instance, postgres, pg_db):
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    # Opening the instance created (and stamped) Dagster's schema in the database.
    created = tables(postgres, pg_db)
    assert {"runs", "event_logs", "jobs", "job_ticks", "alembic_version"} <= created
    assert {"concurrency_limits", "concurrency_slots"} <= created  # the pools live here too
    assert not instance.telemetry_enabled and not instance.nux_enabled


def test_the_instance_queues_runs_one_per_shop_and_one_duckdb_writer(instance):
    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    config = instance.get_concurrency_config()
    assert config.pool_config.default_pool_limit == 1
    assert config.run_queue_config.tag_concurrency_limits == [SHOP_LIMIT]


def test_the_instance_file_keeps_the_local_files_concurrency_settings():
    deployed = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    local = yaml.safe_load((ROOT / "pipelines" / "dagster.yaml").read_text())
    assert deployed["concurrency"] == local["concurrency"]
    assert deployed["telemetry"] == local["telemetry"] and deployed["nux"] == local["nux"]


def test_the_connection_comes_only_from_the_environment():
    db = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())["storage"]["postgres"]["postgres_db"]
    assert db == {
        "username": {"env": "DAGSTER_PG_USERNAME"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "db_name": {"env": "DAGSTER_PG_DB"},
    }


def test_a_missing_connection_variable_is_a_config_error(tmp_path, postgres, pg_db, monkeypatch):
    env = deploy_env(deploy_home(tmp_path), postgres, pg_db)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DAGSTER_PG_HOST")
    with pytest.raises(DagsterInvalidConfigError, match="DAGSTER_PG_HOST"):
        dg.DagsterInstance.get()


def test_the_workspace_file_loads_the_code_location():
    path = DEPLOY / "workspace.yaml"
    config = ensure_workspace_config(yaml.safe_load(path.read_text()), str(path))
    (entry,) = config["load_from"]
    module = entry["python_module"]
    assert module["module_name"] == "pipelines.definitions"
    assert "working_directory" not in module  # the installed package, not a checkout
