"""Fixtures for the browser suite: demo data, a `dagster dev` server, headless Chromium.

Everything runs on loopback: a sandbox shop served over a real socket, a sync and the backlog
report recorded in a throwaway DAGSTER_HOME, then `dagster dev -w workspace.yaml` on a free port
in its own session (its whole process group is stopped in teardown).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
DAGSTER = Path(sys.executable).with_name("dagster")
START_TIMEOUT = 180.0
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--virtual-time-budget=10000",
]


@pytest.fixture(scope="session", autouse=True)
def _needs_chromium() -> None:
    """No Chromium: a skip on a workstation (named at the end of the run), a failure in CI."""
    if not CHROMIUM.exists():
        missing = (
            "headless Chromium not found at /usr/bin/chromium: "
            "`apt-get install -y chromium` (.ci/run does it)"
        )
        if os.environ.get("CI", "").lower() not in {"", "0", "false"}:
            pytest.fail(f"{missing}; CI runs every suite", pytrace=False)
        pytest.skip(missing)


@dataclass(frozen=True)
class DemoData:
    """A synced warehouse, its report page and the env that points Dagster at them."""

    db: Path
    report: Path
    dagster_home: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory) -> Iterator[DemoData]:
    """Sync a live sandbox over loopback, then materialize backlog_report in a fresh DAGSTER_HOME.

    The sandbox keeps running while the suite does, so STOQ_BASE_URL points at a live API.
    """
    import dagster as dg

    import sandbox
    from assets.report import backlog_report
    from assets.resources import WarehouseResource
    from preorders.sync import sync_offers, sync_orders
    from stoq import StoqClient

    base = tmp_path_factory.mktemp("demo")
    db, home = base / "preorders.duckdb", base / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nnux:\n  enabled: false\n")
    with sandbox.serve(sandbox.SandboxConfig(seed=7, orders=300)) as running:
        env = {
            "STOQ_API_KEY": sandbox.DEFAULT_API_KEY,
            "STOQ_BASE_URL": running.base_url,
            "PREORDERS_DUCKDB_PATH": str(db),
            "DAGSTER_HOME": str(home),
        }
        warehouse = WarehouseResource(database=str(db))
        client = StoqClient(sandbox.DEFAULT_API_KEY, running.base_url)
        with client, warehouse.get_connection() as conn:
            sync_offers(client, conn, run_id="browser-demo")
            sync_orders(client, conn, run_id="browser-demo", mode="full")
        with dg.DagsterInstance.from_config(str(home)) as instance:
            report = dg.materialize(
                [backlog_report], instance=instance, resources={"warehouse": warehouse}
            )
        assert report.success
        (mat,) = report.asset_materializations_for_node("backlog_report")
        yield DemoData(db, Path(mat.metadata["path"].value), home, env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(url: str, query: str) -> dict[str, Any]:
    """POST one GraphQL query to the webserver; the `data` of its answer."""
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    assert "errors" not in body, body["errors"]
    return body["data"]


LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


def _wait_until_loaded(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster dev exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            entries = graphql(url, LOCATIONS)["workspaceOrError"]["locationEntries"]
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
            continue
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            for entry in entries:
                loaded = entry["locationOrLoadError"] or {}
                assert loaded.get("__typename") != "PythonError", loaded.get("message")
            return
        time.sleep(0.5)
    pytest.fail(f"dagster dev did not load in {START_TIMEOUT:.0f}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def dagster_ui(demo_data: DemoData, tmp_path_factory) -> Iterator[str]:
    """`dagster dev -w workspace.yaml` on a free port over the demo data; yields its URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("dagster_dev") / "dagster_dev.log"
    env = {**os.environ, **demo_data.env}
    command = [str(DAGSTER), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_loaded(url, proc, log)
        yield url
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen) -> None:
    """Ctrl-C the whole session (webserver, daemon, code servers); SIGKILL what is left."""
    for sig, grace in ((signal.SIGINT, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
            if sig == signal.SIGINT:
                time.sleep(1)  # let the children follow the parent out
        except subprocess.TimeoutExpired:
            continue


@dataclass
class Chromium:
    """Headless Chromium from Debian's package, one throwaway profile per test module."""

    profile: Path

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        flags = [*CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "--window-size=1600,1000"]
        return subprocess.run(
            [str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=timeout
        )

    def dom(self, url: str) -> str:
        """The DOM after scripts ran (up to the virtual-time budget)."""
        done = self.run("--dump-dom", url)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def screenshot(self, url: str, path: Path) -> Path:
        done = self.run(f"--screenshot={path}", url)
        assert done.returncode == 0 and path.is_file(), done.stderr[-2000:]
        return path


@pytest.fixture(scope="module")
def chromium(tmp_path_factory) -> Chromium:
    return Chromium(tmp_path_factory.mktemp("chromium-profile"))


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    """Where screenshots go: $BROWSER_ARTIFACTS when set (CI uploads), else a tmp dir."""
    folder = Path(os.environ.get("BROWSER_ARTIFACTS") or tmp_path_factory.mktemp("screens"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def static_server(tmp_path) -> Iterator[tuple[str, Path]]:
    """Serve a tmp folder on loopback (same origin for the report and its probe page)."""
    handler = partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def copy_report(page: Path, folder: Path) -> None:
    """Copy the report page (and its PNGs, unused by the page but handy) into `folder`."""
    for item in page.parent.iterdir():
        shutil.copy2(item, folder / item.name)
