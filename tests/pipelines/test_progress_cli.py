"""Progress as an operator sees it: lines on stderr off a terminal, live bars on one, --quiet."""

from __future__ import annotations

import argparse
import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

import sandbox
import warehouse.schema
from pipelines.cli import build_parser
from pipelines.cli_progress import LiveBars
from pipelines.cli_support import progress_display
from preorders.progress import Event, PhaseStarted
from preorders.progress_lines import Lines
from preorders.sync import sync_offers, sync_orders
from stoq import StoqClient
from tests.assets.helpers import client_for, make_shop
from tests.hostile import Answer, Exchange, HostileServer
from tests.pipelines.cli_helpers import (
    ROOT,
    cli_env,
    command,
    error_lines,
    free_port,
    progress_lines,
    run_cli,
)


@pytest.fixture(scope="module")
def served():
    config = sandbox.SandboxConfig(orders=600, rate_limit_points=100_000, job_steps=3)
    with sandbox.serve(config) as running:
        yield running


def env_for(tmp_path: Path, base_url: str, **more: str) -> dict[str, str]:
    return cli_env(
        tmp_path,
        STOQ_API_KEY=sandbox.DEFAULT_API_KEY,
        STOQ_BASE_URL=base_url,
        PREORDERS_DUCKDB_PATH=str(tmp_path / "w.duckdb"),
        **more,
    )


def test_off_a_terminal_sync_prints_each_phase_on_stderr(served, tmp_path: Path) -> None:
    done = run_cli(env_for(tmp_path, served.base_url), "sync", "--full")
    assert done.returncode == 0, done.stderr
    shown = [line.split(" ", 1)[1] for line in progress_lines(done.stderr)]
    assert shown[0] == "offers: started"
    assert "orders (full): started" in shown
    # The two streams walk at once, so either may end last; each ends once, done.
    ends = sorted(line for line in shown if " done in " in line)
    assert len(ends) == 2 and ends[0].startswith("offers: done in "), shown
    assert re.fullmatch(r"orders \(full\): done in [\d.]+ s \(6 pages, 600 orders\)", ends[1])
    assert error_lines(done.stderr) == []
    assert done.stdout.splitlines()[-1].startswith("done in ")  # stdout as before


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_leaves_only_the_result_line(served, tmp_path: Path, where: str) -> None:
    args = ["--quiet", "sync"] if where == "before" else ["sync", "-q"]
    done = run_cli(env_for(tmp_path, served.base_url), *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    (line,) = done.stdout.splitlines()
    assert line.startswith("done in ") and "checks 6/6 passed" in line


def test_quiet_never_hides_an_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/v2/external"
    done = run_cli(env_for(tmp_path, url, STOQ_MAX_RETRIES="1"), "sync", "--quiet")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(f"preorders sync: cannot reach the STOQ API at {url}")


def test_an_unreachable_host_says_it_is_retrying_and_why(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/v2/external"
    done = run_cli(env_for(tmp_path, url, STOQ_MAX_RETRIES="2"), "sync")
    assert done.returncode == 1
    shown = [line.split(" ", 1)[1] for line in progress_lines(done.stderr)]
    # The two streams walk at once: their lines interleave, each stream's in order, and of
    # the lines between a start and an end at most one per 10 s is said (the first here).
    offers = [line for line in shown if line.startswith("offers: ")]
    assert re.fullmatch(
        r"offers: retrying in [\d.]+ s \(cannot reach host; retry 1 of 2\)", offers[1]
    ), shown
    assert offers[-1].startswith("offers: failed in ")
    orders = [line for line in shown if line.startswith("orders (full): ")]
    assert orders[0] == "orders (full): started" and orders[-1].startswith("orders (full): failed")
    assert len(error_lines(done.stderr)) == 1  # the first stream's reason


def test_jobs_poll_shows_status_and_percent_and_quiet_keeps_the_last(served, tmp_path) -> None:
    env = env_for(tmp_path, served.base_url)
    with StoqClient(sandbox.DEFAULT_API_KEY, served.base_url) as client:
        first = client.bulk_variant_action("bulk_sync_metafields")
        second = client.bulk_variant_action("bulk_sync_metafields")
    done = run_cli(env, "jobs", "poll", first.status_url, "--interval", "0.01")
    assert done.returncode == 0, done.stderr
    job = f"job {first.job_id}"
    shown = [line.split(" ", 1)[1] for line in progress_lines(done.stderr)]
    assert shown[0] == f"{job}: started"
    assert re.fullmatch(rf"{job}: (queued|running) \d+%( \(\d+/\d+\))?", shown[1]), shown
    assert re.fullmatch(rf"{job}: done in [\d.]+ s \(status completed\)", shown[-1])
    quiet = run_cli(env, "jobs", "poll", second.status_url, "--interval", "0.01", "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    (line,) = quiet.stdout.splitlines()
    assert re.fullmatch(rf"job {second.job_id}: completed 100% \(\d+/\d+\)", line)


def test_every_command_and_verb_takes_quiet() -> None:
    def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
        yield parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from parsers(sub)

    found = list(parsers(build_parser()))
    assert len(found) > 10  # the commands and the verbs were walked
    assert all("--quiet" in p._option_string_actions for p in found)


def test_live_bars_draw_a_real_sync_through_rich(tmp_path: Path) -> None:
    screen = io.StringIO()
    bars = LiveBars(Console(file=screen, force_terminal=True, width=120))
    lines: list[str] = []
    plain = Lines(lines.append, every=0)

    def both(event: Event) -> None:
        bars(event)
        plain(event)

    shop = make_shop(800)
    with client_for(shop) as client, duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        warehouse.schema.apply(conn)
        sync_offers(client, conn, run_id="r", progress=both)
        sync_orders(client, conn, run_id="r", mode="full", progress=both)
    bars.close()
    drawn = screen.getvalue()
    assert "\x1b[" in drawn  # drawn as a terminal would see it
    assert "orders (full)" in drawn and "/8 pages, " in drawn and "800 orders" in drawn
    assert "\x1b[?25h" in drawn  # the cursor is given back: the live display stopped
    assert not [t for t in threading.enumerate() if type(t).__name__ == "_RefreshThread"]
    assert lines[-1].startswith("orders (full): done in ")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


RICH_LOADS = """
import json, sys, io
from pipelines.cli_support import progress_display
class Tty(io.StringIO):
    def isatty(self): return True
seen = []
with progress_display(False, Tty()) as progress:
    seen.append(sorted({"rich", "preorders.progress"} & set(sys.modules)))
    from preorders.progress import PhaseStarted, PhaseEnded
    progress(PhaseStarted("p"))
    seen.append("rich" in sys.modules)
    progress(PhaseEnded("p", 1.0))
print(json.dumps(seen))
"""


def test_rich_and_the_progress_code_load_only_at_the_first_event() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RICH_LOADS], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [[], True]


def test_quiet_and_a_pipe_choose_their_display() -> None:
    terminal = FakeTerminal()
    with progress_display(True, terminal) as quiet:
        quiet(PhaseStarted("orders"))
    assert terminal.getvalue() == ""
    pipe = io.StringIO()
    with progress_display(False, pipe) as lines:
        lines(PhaseStarted("orders"))
    assert re.fullmatch(r"\d\d:\d\d:\d\d orders: started\n", pipe.getvalue())


def drip_orders_page_two(ex: Exchange) -> Answer | None:
    """Page 2 of orders at 2 bytes a second: the walk hangs there with its bar drawn."""
    if ex.path == "/preorders/orders" and ex.query.get("page") == "2":
        up = ex.upstream
        return Answer(up.status, up.body, dict(up.headers), drip=0.5)
    return None


def read_until(fd: int, proc: subprocess.Popen, seconds: float, done) -> bytes:
    """What the terminal showed, read until `done(shown)` or the process ends."""
    shown, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline and not done(shown):
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                shown += os.read(fd, 65536)
            except OSError:  # the child closed its end
                break
        elif proc.poll() is not None:
            break
    return shown


def test_a_stop_on_a_terminal_erases_the_bars_and_prints_its_one_line(tmp_path: Path) -> None:
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=300, rate_limit_points=100_000))
    with HostileServer(shop, drip_orders_page_two) as server:
        env = env_for(tmp_path, server.base_url) | {"COLUMNS": "120", "TERM": "xterm"}
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            command("sync", "--full"), env=env, cwd=ROOT,
            stdin=follower, stdout=follower, stderr=follower,
        )  # fmt: skip
        os.close(follower)
        try:
            shown = read_until(leader, proc, 60, lambda s: b"orders (full)" in s)
            assert b"orders (full)" in shown, shown  # the bar is up while page 2 drips
            proc.send_signal(signal.SIGINT)
            shown += read_until(leader, proc, 15, lambda s: b"stopped by SIGINT" in s)
            assert proc.wait(timeout=15) == 130
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(leader)
    text = shown.decode(errors="replace")
    assert "preorders sync: stopped by SIGINT; the last committed data is kept" in text
    last_bar = text.rindex("orders (full)")
    assert "\x1b[?25h" in text[last_bar:]  # erased and the cursor given back before the line
    assert "Traceback" not in text
