"""Fixtures for the browser suite: the demo's data, its `dagster dev`, headless Chromium.

Everything runs on loopback, the way a person gets there: `preorders demo` in a throwaway folder,
then the two lines it prints to open the UI, each in a fresh shell from another folder (the saved
shops on a free port, then `dagster dev` on another). Each runs in its own session; its whole
process group is stopped in teardown.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import os
import re
import shutil
import subprocess
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

from tests.pipelines.cli_helpers import free_port
from tests.pipelines.demo_helpers import (
    DemoRun,
    run_demo,
    serving_the_saved_shop,
    start_in_shell,
    stop_group,
)

CHROMIUM = Path("/usr/bin/chromium")
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
    """The demo's warehouse, report page and Dagster home, the env its UI line sets, and the
    origin of its saved shops (two, `shop1` and `shop2`, on one port), served as it prints."""

    db: Path
    report: Path
    dagster_home: Path
    env: dict[str, str]
    sandbox_url: str
    run: DemoRun


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory) -> Iterator[DemoData]:
    """`preorders demo` (300 orders per shop), then its printed sandbox line, kept running."""
    run = run_demo(tmp_path_factory.mktemp("demo"), orders=300, sandbox_port=free_port())
    with serving_the_saved_shop(run, tmp_path_factory.mktemp("sandbox_shell")) as url:
        yield DemoData(run.db, run.report, run.dagster_home, run.env, url, run)


def graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST one GraphQL query to the webserver; the `data` of its answer."""
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
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
    """The demo's printed `dagster dev` line on a free port, from another folder; yields its URL."""
    port = free_port()
    shell = tmp_path_factory.mktemp("dagster_shell")
    log = shell / "dagster_dev.log"
    proc = start_in_shell(demo_data.run.dagster_line, shell, log, f"-h 127.0.0.1 -p {port}")
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_loaded(url, proc, log)
        yield url
    finally:
        stop_group(proc)


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

    def text(self, url: str) -> str:
        """The page's visible text, one line per text node, entities decoded."""
        return page_text(self.dom(url))

    def screenshot(self, url: str, path: Path) -> Path:
        done = self.run(f"--screenshot={path}", url)
        assert done.returncode == 0 and path.is_file(), done.stderr[-2000:]
        return path


class DevToolsPage:
    """One tab of headless Chromium driven over the DevTools protocol: go, evaluate, wait, click."""

    def __init__(self, socket: Any) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One protocol command; its result (events arriving meanwhile are dropped)."""
        command_id = next(self._ids)
        self._socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=60))
            if message.get("id") == command_id:
                assert "error" not in message, message
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        done = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        assert "exceptionDetails" not in done, done["exceptionDetails"]
        return done["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Evaluate until the value is truthy; that value."""
        deadline = time.monotonic() + timeout
        while not (value := self.evaluate(expression)):
            assert time.monotonic() < deadline, f"never true: {expression}"
            time.sleep(0.25)
        return value

    def goto(self, url: str) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def screenshot(self, path: Path) -> Path:
        shot = self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@pytest.fixture(scope="module")
def devtools(tmp_path_factory) -> Iterator[DevToolsPage]:
    """Headless Chromium with a DevTools port (its own profile), one page, closed at the end."""
    from websockets.sync.client import connect  # dagster-webserver's uvicorn[standard] brings it

    profile = tmp_path_factory.mktemp("devtools-profile")
    flags = [f for f in CHROMIUM_FLAGS if not f.startswith("--virtual-time-budget")]  # real time
    flags += [f"--user-data-dir={profile}", "--window-size=1600,1000"]
    proc = subprocess.Popen(
        [str(CHROMIUM), *flags, "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"  # Chromium writes the port it picked here
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline, "no DevTools port"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        page = next(t for t in targets if t["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
            yield DevToolsPage(socket)
    finally:
        proc.terminate()
        proc.wait(10)


def page_text(dom: str) -> str:
    """A dumped DOM's text nodes, one per line, whitespace collapsed (no scripts or styles)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.DOTALL | re.IGNORECASE)
    nodes = (" ".join(html.unescape(t).split()) for t in re.split(r"<[^>]*>", body))
    return "\n".join(n for n in nodes if n)


def editor_text(dom: str) -> str:
    """The text in the page's code editor (the launchpad's run config), line by line."""
    lines = re.findall(r'<pre class="\s*CodeMirror-line\s*"[^>]*>(.*?)</pre>', dom, re.DOTALL)
    text = (html.unescape(re.sub(r"<[^>]*>", "", line)) for line in lines)
    return "\n".join(line.replace("\u200b", "") for line in text)


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
