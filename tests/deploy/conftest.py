"""A real PostgreSQL server for the deploy suite, started and stopped by the tests themselves.

pytest-postgresql's executor runs `pg_ctl` (initdb, start, stop) in a temporary folder on a free
loopback port; each test gets its own database from its janitor. PostgreSQL refuses to run as
root, so as root `pg_ctl` runs as the `postgres` user (`runuser`), in a folder that user owns.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor

from tests.deploy.helpers import USER, Postgres
from tests.pipelines.cli_helpers import free_port


def pg_ctl() -> Path | None:
    """The newest installed PostgreSQL's pg_ctl (Debian's layout), if any."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1] if found else None


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in {"", "0", "false"}


def _as_server_user(executable: Path, folder: Path) -> Path:
    """A pg_ctl that runs as `postgres` when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return executable
    shutil.chown(folder, "postgres")
    wrapper = Path(tempfile.mkdtemp(prefix="pg_ctl-")) / "pg_ctl"
    wrapper.write_text(f'#!/bin/sh\nexec runuser -u postgres -- "{executable}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """PostgreSQL in a temp folder on a free loopback port, for the whole session."""
    executable = pg_ctl()
    if executable is None:
        missing = (
            "PostgreSQL not found (/usr/lib/postgresql/*/bin/pg_ctl): "
            "`apt-get install -y postgresql` (.ci/run does it)"
        )
        if _in_ci():
            pytest.fail(f"{missing}; CI runs every suite", pytrace=False)
        pytest.skip(missing)
    # Not under pytest's tmp dir: its parents are private to root, and the server user must
    # reach its data folder.
    folder = Path(tempfile.mkdtemp(prefix="stoq-pg-"))
    command = _as_server_user(executable, folder)
    port = free_port()
    executor = PostgreSQLExecutor(
        executable=str(command),
        host="127.0.0.1",
        port=port,
        datadir=str(folder / "data"),
        unixsocketdir=str(folder),
        logfile=str(folder / "postgresql.log"),
        startparams="-w",
        dbname="postgres",
        user=USER,
        postgres_options="-c listen_addresses=127.0.0.1",
    )
    executor.start()
    try:
        yield Postgres("127.0.0.1", port)
    finally:
        executor.stop()
        shutil.rmtree(folder, ignore_errors=True)
        if command != executable:
            shutil.rmtree(command.parent, ignore_errors=True)


@pytest.fixture
def pg_db(postgres: Postgres) -> Iterator[str]:
    """A fresh, empty database on the server for one test; dropped after it."""
    name = f"dagster_{uuid.uuid4().hex[:12]}"
    with DatabaseJanitor(user=USER, host=postgres.host, port=postgres.port, dbname=name):
        yield name
