"""SIGKILL a `preorders sync` mid-run: the last committed snapshot survives, the next run heals."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import duckdb

import sandbox
from tests.assets.truth import assert_matches_truth
from tests.pipelines.cli_helpers import ROOT, cli_env, command, run_cli

COUNTS = """
    select (select count(*) from orders), (select count(*) from order_line_items),
           (select count(*) from offers), (select count(*) from sync_runs)
"""


def counts(db: Path) -> tuple[int, ...]:
    with duckdb.connect(str(db)) as conn:
        return conn.execute(COUNTS).fetchone()


def test_killed_sync_keeps_the_last_snapshot_and_the_next_run_converges(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    config = sandbox.SandboxConfig(orders=2000, rate_limit_points=100_000)
    with sandbox.serve(config) as running:
        env = cli_env(
            tmp_path,
            STOQ_API_KEY=sandbox.DEFAULT_API_KEY,
            STOQ_BASE_URL=running.base_url,
            PREORDERS_DUCKDB_PATH=str(db),
            STOQ_MAX_CONCURRENCY="4",  # a walk no wider than 4: slow enough to kill mid-walk
        )
        first = run_cli(env, "sync", "--full")
        assert first.returncode == 0, first.stderr
        before = counts(db)

        running.shop.mutate(new_orders=50, pay_balances=20, release=10, cancel=5, fulfill=5)
        running.shop.set_chaos(latency_ms=500)  # ~20 pages at 4 in flight: a few seconds
        proc = subprocess.Popen(
            command("sync", "--full"), env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        try:
            for line in proc.stdout:  # the offers stream commits first (2 pages; orders 21)
                if line.strip().startswith("offers"):
                    break
            time.sleep(0.5)
            assert proc.poll() is None, "the sync finished before it could be killed"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL

        orders, lines, offers, _runs = counts(db)  # the file opens: the snapshot is intact
        assert (orders, lines, offers) == before[:3]

        running.shop.set_chaos(latency_ms=0)
        healed = run_cli(env, "sync")
        assert healed.returncode == 0, healed.stderr
        with duckdb.connect(str(db)) as conn:
            assert_matches_truth(conn, running.shop)
