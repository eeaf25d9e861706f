"""The one-server deployment on a real PostgreSQL: a sync, the daemon and its sensor, the webserver.

As an operator runs it: deploy/dagster.yaml copied into a DAGSTER_HOME, the database from the
DAGSTER_PG_* variables, `dagster sensor start`, then `dagster-daemon run` and `dagster-webserver`
as processes of their own (each in its own session, stopped by PID). The code location is the
product's with the release sensor live and quick (tests/deploy/location.py); the shop is the
sandbox on loopback. The daemon is SIGKILLed once while its sensor ticks and a release run is in
flight, then started again: every paid order must still be released exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import yaml
from dagster._core.scheduler.instigation import TickStatus
from pytest_postgresql.janitor import DatabaseJanitor

import sandbox
from tests.deploy import location
from tests.deploy.helpers import DEPLOY, ROOT, USER, Postgres, deploy_env, deploy_home
from tests.pipelines.cli_helpers import free_port
from tests.pipelines.demo_helpers import stop_group
from tests.pipelines.test_release_support import applied
from warehouse import ledger

BIN = Path(sys.executable).parent
SENSOR = "releasable_orders_sensor"
RELEASE_JOB = "release_orders"
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
TIMEOUT = 120.0
DONE = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@dataclass
class Deployment:
    """What the module's tests share: the shop, the warehouse file, the home and environment."""

    folder: Path
    shop: sandbox.Shop
    db: Path
    env: dict[str, str]
    workspace: Path
    postgres: Postgres
    pg_db: str
    procs: list[subprocess.Popen] = field(default_factory=list)

    def start(self, name: str, *args: str) -> subprocess.Popen:
        """A Dagster process in its own session, its output in <folder>/<name>.log."""
        with (self.folder / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                [str(BIN / name), *args],
                cwd=self.folder,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def release_runs(self, instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
        return list(instance.get_runs(filters=dg.RunsFilter(job_name=RELEASE_JOB)))


def workspace_file(folder: Path) -> Path:
    """deploy/workspace.yaml pointed at the test location (from this checkout)."""
    config = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    module = config["load_from"][0]["python_module"]
    module["module_name"] = location.__name__
    module["working_directory"] = str(ROOT)
    path = folder / "workspace.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def deployment(postgres: Postgres, tmp_path_factory) -> Iterator[Deployment]:
    """A fresh database, the sandbox on loopback, and this process's environment set to match."""
    folder = tmp_path_factory.mktemp("deployment")
    db_name = f"dagster_{uuid.uuid4().hex[:12]}"
    shop = sandbox.Shop(
        sandbox.SandboxConfig(orders=60, seed=11, rate_limit_points=1_000_000, job_steps=2)
    )
    db = folder / "warehouse.duckdb"
    with (
        DatabaseJanitor(user=USER, host=postgres.host, port=postgres.port, dbname=db_name),
        sandbox.serve(shop) as server,
        pytest.MonkeyPatch.context() as patch,
    ):
        env = deploy_env(
            deploy_home(folder),
            postgres,
            db_name,
            STOQ_API_KEY=sandbox.DEFAULT_API_KEY,
            STOQ_BASE_URL=server.base_url,
            PREORDERS_DUCKDB_PATH=str(db),
        )
        for key, value in env.items():
            if os.environ.get(key) != value:
                patch.setenv(key, value)
        deployment = Deployment(folder, shop, db, env, workspace_file(folder), postgres, db_name)
        try:
            yield deployment
        finally:
            for proc in reversed(deployment.procs):
                stop_group(proc)


@dataclass(frozen=True)
class Synced:
    result: dg.ExecuteInProcessResult
    releasable: list[int]


@pytest.fixture(scope="module")
def synced(deployment: Deployment) -> Synced:
    """`sync_preorders` on the PostgreSQL instance (partition `default` when partitioned)."""
    job = location.defs.resolve_job_def("sync_preorders")
    partition = "default" if job.partitions_def is not None else None
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance, partition_key=partition, run_config=QUIET
        )
    with duckdb.connect(str(deployment.db), read_only=True) as conn:
        ids = [c.order_id for c in ledger.releasable(conn)]
    return Synced(result, ids)


def wait_for(
    what: str, check: Callable[[], Any], deployment: Deployment, timeout: float = TIMEOUT
) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what`, with the logs."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            logs = "\n".join(
                f"--- {n}:\n{deployment.log(n)}" for n in ("dagster-daemon", "dagster-webserver")
            )
            pytest.fail(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.02)
    return value


def sensor_state(instance: dg.DagsterInstance):
    (state,) = [s for s in instance.all_instigator_state() if s.instigator_name == SENSOR]
    return state


def ticking(instance: dg.DagsterInstance) -> bool:
    """Whether the sensor's newest tick is being evaluated right now."""
    state = sensor_state(instance)
    ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
    return bool(ticks) and ticks[0].status == TickStatus.STARTED


def starting(deployment: Deployment, instance: dg.DagsterInstance) -> bool:
    launching = {dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED}
    return any(r.status in launching for r in deployment.release_runs(instance))


@dataclass(frozen=True)
class Released:
    """What the daemon did: its release runs, and the state of things when it was killed."""

    runs: list[dg.DagsterRun]
    killed_mid_tick: bool  # a tick was being evaluated when we saw it (a moment before the kill)
    released_at_kill: int
    webserver: str


@pytest.fixture(scope="module")
def released(deployment: Deployment, synced: Synced) -> Released:
    """Sensor on, daemon and webserver up; the daemon SIGKILLed mid-tick once and restarted;
    back when every releasable order is released and no release run is left to finish."""
    assert synced.result.success
    workspace = ["-w", str(deployment.workspace)]
    port = free_port()
    deployment.start("dagster-webserver", "-h", "127.0.0.1", "-p", str(port), *workspace)
    daemon = deployment.start("dagster-daemon", "run", *workspace)
    # While they load: turn the sensor on (it ships stopped); the daemon reads its state from
    # PostgreSQL on each pass.
    started = subprocess.run(
        [str(BIN / "dagster"), "sensor", "start", SENSOR, *workspace],
        cwd=deployment.folder,
        env=deployment.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert started.returncode == 0, started.stdout + started.stderr
    shop = deployment.shop

    def released_count() -> int:
        states = {o["id"]: o["state"] for o in shop.truth_orders()}
        return sum(states[i] == "released" for i in synced.releasable)

    with dg.DagsterInstance.get() as instance:
        # Kill once a release run is in flight, at a moment the sensor is mid-tick if we see
        # one within 10 s (it ticks every second), else then; never while the queue is handing
        # a run to its process (that run would wait for run monitoring's start timeout).
        wait_for(
            "a release run in flight",
            lambda: any(
                r.status == dg.DagsterRunStatus.STARTED for r in deployment.release_runs(instance)
            ),
            deployment,
        )
        deadline = time.monotonic() + 10
        while not (mid_tick := ticking(instance)) and time.monotonic() < deadline:
            time.sleep(0.005)
        wait_for("no run starting", lambda: not starting(deployment, instance), deployment)
        os.kill(daemon.pid, signal.SIGKILL)
        daemon.wait(10)
        at_kill = released_count()
        deployment.start("dagster-daemon", "run", *workspace)
        wait_for(
            "every releasable order released",
            lambda: released_count() == len(synced.releasable),
            deployment,
        )
        wait_for(
            "the release runs to finish",
            lambda: all(r.status in DONE for r in deployment.release_runs(instance)),
            deployment,
        )
        time.sleep(3)  # a few more ticks: nothing more may be requested
        runs = deployment.release_runs(instance)
    return Released(runs, mid_tick, at_kill, f"http://127.0.0.1:{port}")


def test_sync_preorders_runs_on_the_postgresql_instance(deployment, synced):
    assert synced.result.success
    with deployment.postgres.connect(deployment.pg_db) as conn:
        rows = conn.execute("select pipeline_name, status from runs").fetchall()
    assert ("sync_preorders", "SUCCESS") in rows
    with duckdb.connect(str(deployment.db), read_only=True) as conn:
        (orders,) = conn.execute("select count(*) from orders").fetchone()
    assert orders == len(deployment.shop.truth_orders())
    assert len(synced.releasable) > location.POLICY.max_orders_per_tick  # two runs at least


def test_the_daemons_sensor_runs_release_every_paid_order_exactly_once(
    deployment, synced, released
):
    ids = synced.releasable
    assert released.runs and {r.status for r in released.runs} == {dg.DagsterRunStatus.SUCCESS}
    assert len(released.runs) >= len(ids) // location.POLICY.max_orders_per_tick
    # The sensor's runs, each carrying the tag deploy/dagster.yaml limits to one run per shop.
    tags = {(r.tags.get("dagster/sensor_name"), r.tags.get("stoq/shop")) for r in released.runs}
    assert tags == {(location.releasable_orders_sensor.name, "default")}
    # The shop: one applied release per order, and each order released.
    counts = applied(deployment.shop, [])
    assert dict(counts) == dict.fromkeys(ids, 1)
    states = {o["id"]: o["state"] for o in deployment.shop.truth_orders()}
    assert {states[i] for i in ids} == {"released"}
    # The ledger: one real (not dry-run) row per order, succeeded, written by those runs.
    with duckdb.connect(str(deployment.db), read_only=True) as conn:
        rows = ledger.rows(conn, action="release")
    assert sorted(r["order_id"] for r in rows) == sorted(ids)
    assert {(r["dry_run"], r["status"]) for r in rows} == {(False, "succeeded")}
    assert {r["dagster_run_id"] for r in rows} <= {r.run_id for r in released.runs}


def test_a_daemon_killed_mid_tick_neither_loses_nor_repeats_a_release(deployment, synced, released):
    # The kill came while releases were still outstanding; the run keys the sensor derives from
    # each plan kept the restarted daemon from requesting any batch twice.
    assert released.released_at_kill < len(synced.releasable), released
    keys = [r.tags.get("dagster/run_key") for r in released.runs]
    assert all(keys) and len(set(keys)) == len(keys)
    planned = [
        i
        for r in released.runs
        for i in r.run_config["ops"]["release_held_orders"]["config"]["order_ids"]
    ]
    assert sorted(planned) == sorted(synced.releasable)


RUNS = """query ($job: String!) { runsOrError(filter: {pipelineName: $job}) {
  __typename ... on Runs { results { runId status } } ... on PythonError { message } } }"""


def graphql(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_the_webserver_answers_for_those_runs(deployment, released):
    def answer() -> dict[str, Any] | None:
        try:
            return graphql(released.webserver, RUNS, {"job": RELEASE_JOB})["runsOrError"]
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None

    runs = wait_for("the webserver", answer, deployment, timeout=60)
    assert runs["__typename"] == "Runs", runs
    assert {r["runId"]: r["status"] for r in runs["results"]} == {
        r.run_id: "SUCCESS" for r in released.runs
    }
