"""SIGTERM / SIGINT stop `preorders` within seconds: exit 143 / 130, one line, no traceback."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import sandbox
from tests.hostile import Answer, Exchange, HostileServer
from tests.pipelines.cli_helpers import ROOT, cli_env, command, error_lines

STOP_WITHIN_S = 10.0
ORDERLY_S = 5.0  # well under the watchdog's grace (pipelines.stopping.GRACE_S): the orderly path


def drip_orders_page_two(ex: Exchange) -> Answer | None:
    """Page 2 of orders at 2 bytes a second: a sync reading it would run for hours."""
    if ex.path == "/preorders/orders" and ex.query.get("page") == "2":
        up = ex.upstream
        return Answer(up.status, up.body, dict(up.headers), drip=0.5)
    return None


def job_never_ends(ex: Exchange) -> Answer | None:
    """Every job status poll answers `running` at 10%, for ever."""
    if ex.path.startswith("/jobs/"):
        body = {"job_id": "j1", "status": "running", "progress": 10, "total": 10, "processed": 1}
        return Answer.of_json(200, body)
    return None


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, f"exited early ({proc.returncode}): {proc.communicate()}"
        assert time.monotonic() < deadline, "the server never saw the request"
        time.sleep(0.05)


def stop(proc: subprocess.Popen, signum: int) -> tuple[str, str, float]:
    """Send `signum`; (stdout, stderr, seconds it took to exit)."""
    sent = time.monotonic()
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=STOP_WITHIN_S + 5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return out, err, time.monotonic() - sent


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_a_sync_stuck_on_a_slow_page(tmp_path: Path, signum: int, code: int) -> None:
    db = tmp_path / "w.duckdb"
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=300, rate_limit_points=100_000))
    with HostileServer(shop, drip_orders_page_two) as server:
        env = cli_env(
            tmp_path,
            STOQ_API_KEY=sandbox.DEFAULT_API_KEY,
            STOQ_BASE_URL=server.base_url,
            PREORDERS_DUCKDB_PATH=str(db),
        )
        proc = subprocess.Popen(
            command("sync", "--full"), env=env, cwd=ROOT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        wait_for(lambda: any(q.get("page") == "2" for _, p, q in server.requests
                             if p == "/preorders/orders"), proc)  # fmt: skip
        time.sleep(0.5)  # the page is dripping now
        out, err, took = stop(proc, signum)
    assert proc.returncode == code, err
    assert took < ORDERLY_S
    name = signal.Signals(signum).name
    assert error_lines(err) == [
        f"preorders sync: stopped by {name}; the last committed data is kept"
    ]
    assert " orders (full): stopped in " in err  # the walk's phase ended before the stop line
    assert "Traceback" not in out + err
    with duckdb.connect(str(db)) as conn:  # the file opens: the committed snapshot is intact
        assert conn.execute("select count(*) from offers").fetchone()[0] > 0
        assert conn.execute("select count(*) from orders").fetchone()[0] == 0
        orders_runs = "select outcome, message from sync_runs where stream = 'orders'"
        ((outcome, message),) = conn.execute(orders_runs).fetchall()  # the stop is on record
        assert outcome == "failed" and message.startswith(f"Stopped: {name} (rolled back"), message
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        statuses = [run.status for run in instance.get_runs()]
        orders = instance.get_latest_materialization_event(dg.AssetKey("orders"))
    # A sync that records as a run leaves it canceled, not "started" for ever; one that records
    # runless events leaves no run. Either way the stopped stream was not materialized.
    assert statuses in ([], [dg.DagsterRunStatus.CANCELED])
    assert orders is None


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_job_polling_with_one_line(tmp_path: Path, signum: int, code: int) -> None:
    db = tmp_path / "w.duckdb"
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=5))
    with HostileServer(shop, job_never_ends) as server:
        env = cli_env(
            tmp_path,
            STOQ_API_KEY=sandbox.DEFAULT_API_KEY,
            STOQ_BASE_URL=server.base_url,
            PREORDERS_DUCKDB_PATH=str(db),  # jobs poll records each status there
        )
        url = f"{server.base_url}/jobs/j1"
        proc = subprocess.Popen(
            command("jobs", "poll", url, "--interval", "0.2"), env=env, cwd=ROOT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        wait_for(lambda: len(server.requests) >= 2, proc)
        out, err, took = stop(proc, signum)
    assert proc.returncode == code, err
    assert took < ORDERLY_S
    name = signal.Signals(signum).name
    assert error_lines(err) == [
        f"preorders jobs poll: stopped by {name}; the last committed data is kept"
    ]
    assert "job j1: running 10% (1/10)" in out
    assert "Traceback" not in out + err
    with duckdb.connect(str(db)) as conn:  # recorded, and left open for a later re-attach
        row = conn.execute("select kind, last_status, finished_at from jobs where job_id = 'j1'")
        assert row.fetchone() == ("adhoc", "running", None)


def test_sigterm_during_a_release_keeps_the_ledger_consistent(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    slow = {"on": False}

    def drip_release_answers(ex: Exchange) -> Answer | None:
        if slow["on"] and ex.method == "POST" and ex.path.endswith("/release"):
            up = ex.upstream
            return Answer(up.status, up.body, dict(up.headers), drip=0.5)
        return None

    shop = sandbox.Shop(sandbox.SandboxConfig(orders=80, rate_limit_points=1_000_000))
    with HostileServer(shop, drip_release_answers) as server:
        env = cli_env(
            tmp_path,
            STOQ_API_KEY=sandbox.DEFAULT_API_KEY,
            STOQ_BASE_URL=server.base_url,
            PREORDERS_DUCKDB_PATH=str(db),
        )
        synced = subprocess.run(command("sync"), env=env, cwd=ROOT, capture_output=True)
        assert synced.returncode == 0, synced.stderr
        slow["on"] = True
        proc = subprocess.Popen(
            command("release", "--limit", "1"), env=env, cwd=ROOT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        wait_for(lambda: any(m == "POST" for m, _, _ in server.requests), proc)
        time.sleep(0.5)  # the answer is dripping: the row is `sent`, its outcome unknown
        out, err, took = stop(proc, signal.SIGTERM)
    assert proc.returncode == 143, err
    assert took < ORDERLY_S
    assert error_lines(err) == [
        "preorders release: stopped by SIGTERM; the last committed data is kept"
    ]
    with duckdb.connect(str(db)) as conn:  # one row, left open for a later run's read-back
        rows = conn.execute("select status from order_actions where not dry_run").fetchall()
    assert rows == [("sent",)]
