"""Run `preorders demo` as a person does and start what it prints, each line in a fresh shell.

The demo serves two sandbox shops (`shop1`, `shop2`) on one port; the sandbox's control surface
answers for one of them under `/_sandbox/shops/<name>/…` (sandbox/shops.py).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PREORDERS = Path(sys.executable).with_name("preorders")


@dataclass(frozen=True)
class DemoRun:
    """What the demo printed: its files and the two lines that open the UI on its data."""

    stdout: str
    db: Path
    report: Path
    serve_line: str  # serves the shops the demo left
    dagster_line: str  # `VAR=value ... dagster dev ...`
    env: dict[str, str]  # the assignments in front of the dagster line
    shop_state: Path  # the serve line's --state file (shop1's; shop k's: <stem>-shop<k>.json)
    sandbox_port: int

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def dagster_home(self) -> Path:
        return Path(self.env["DAGSTER_HOME"])

    @property
    def shops_file(self) -> Path:
        return Path(self.env["PREORDERS_SHOPS"])

    @property
    def shops(self) -> list[str]:
        """The shops' names, as the shops file lists them."""
        return [s["name"] for s in yaml.safe_load(self.shops_file.read_text())["shops"]]


def fresh_shell_env(home: Path) -> dict[str, str]:
    """What a new terminal has: PATH, HOME, a locale; none of the demo's settings. PYTHONPATH
    passes through when the suite runs with one (it then is part of the shell's profile)."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def run_demo(folder: Path, orders: int, sandbox_port: int, timeout: float = 300) -> DemoRun:
    """`preorders demo --db <folder>/demo.duckdb` from `folder`, in a fresh environment."""
    db = folder / "demo.duckdb"
    done = subprocess.run(
        [str(PREORDERS), "demo", "--db", str(db), "--orders", str(orders)]
        + ["--sandbox-port", str(sandbox_port)],
        cwd=folder,
        env={**fresh_shell_env(folder), "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return parse_demo(done.stdout, db, sandbox_port)


def parse_demo(stdout: str, db: Path, sandbox_port: int) -> DemoRun:
    """The report path and the printed UI lines (the indented line after steps 1 and 2)."""
    report = re.search(r"^report:\s+(\S.*)$", stdout, re.MULTILINE)
    serve = re.search(r"^1\. .*\n\s+(\S.*)$", stdout, re.MULTILINE)
    dagster = re.search(r"^2\. .*\n\s+(\S.*)$", stdout, re.MULTILINE)
    assert report and serve and dagster, stdout[-3000:]
    words = shlex.split(dagster.group(1))
    env = dict(w.split("=", 1) for w in words if re.match(r"^[A-Z_][A-Z0-9_]*=", w))
    state = shlex.split(serve.group(1))
    return DemoRun(
        stdout=stdout,
        db=db.resolve(),
        report=Path(report.group(1)),
        serve_line=serve.group(1),
        dagster_line=dagster.group(1),
        env=env,
        shop_state=Path(state[state.index("--state") + 1]),
        sandbox_port=sandbox_port,
    )


def start_in_shell(line: str, cwd: Path, log: Path, extra: str = "") -> subprocess.Popen:
    """`bash -c "<line> <extra>"` in a fresh environment, in its own session (see stop_group)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            ["bash", "-c", f"{line} {extra}".strip()],
            cwd=cwd,
            env=fresh_shell_env(cwd),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_group(proc: subprocess.Popen) -> None:
    """Ctrl-C the whole session the process leads; SIGKILL what is left."""
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


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


@contextmanager
def serving_the_saved_shop(demo: DemoRun, cwd: Path, timeout: float = 60) -> Iterator[str]:
    """The printed sandbox line (every saved shop), running until the block ends; yields the
    sandbox's origin."""
    log = cwd / "sandbox.log"
    proc = start_in_shell(demo.serve_line, cwd, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                get_json(f"{demo.sandbox_url}/_sandbox/log")
                break
            except (urllib.error.URLError, ConnectionError) as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    failed = f"the printed sandbox line failed:\n{log.read_text()}"
                    raise AssertionError(failed) from exc
                time.sleep(0.2)
        yield demo.sandbox_url
    finally:
        stop_group(proc)


def control_url(sandbox_url: str, shop: str | None = None) -> str:
    """The sandbox's control surface: the first shop's, or the named shop's."""
    return f"{sandbox_url}/_sandbox/" + (f"shops/{shop}/" if shop else "")


def served_shops(sandbox_url: str) -> list[str]:
    """The names of the shops the sandbox serves (one shop: its own has no list)."""
    try:
        return [s["name"] for s in get_json(f"{sandbox_url}/_sandbox/shops")["shops"]]
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
        return ["shop1"]


def truth_orders(sandbox_url: str, shop: str | None = None) -> dict[int, str]:
    """Order id -> state, as the sandbox serves them (the first shop's, or the named shop's)."""
    answer = get_json(control_url(sandbox_url, shop) + "truth/orders")
    return {o["id"]: o["state"] for o in answer["orders"]}


def release_requests(sandbox_url: str) -> list[str]:
    """The release writes the sandbox has seen (single and bulk), in every shop it serves."""
    paths = []
    for shop in served_shops(sandbox_url):
        entries = get_json(control_url(sandbox_url, shop) + "log")["entries"]
        paths += [e["path"] for e in entries if e["method"] == "POST" and "release" in e["path"]]
    return paths
