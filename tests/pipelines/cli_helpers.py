"""Run `preorders` in a subprocess with a controlled environment."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from pipelines.cli_support import ensure_dagster_home

ROOT = Path(__file__).resolve().parents[2]


def cli_env(tmp_path: Path, **env: str) -> dict[str, str]:
    """The parent's environment minus any STOQ_*/PREORDERS_* settings, plus a DAGSTER_HOME, a
    DuckDB file in `tmp_path` (never data/preorders.duckdb in the repo) and `env`."""
    home = ensure_dagster_home(tmp_path / "dagster_home")  # the dagster.yaml the CLI writes
    base = {k: v for k, v in os.environ.items() if not k.startswith(("STOQ_", "PREORDERS_"))}
    ours = {
        "DAGSTER_HOME": str(home),
        "PREORDERS_DUCKDB_PATH": str(tmp_path / "preorders.duckdb"),
        "PYTHONUNBUFFERED": "1",
    }
    return base | ours | env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", *args]


def run_cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        command(*args), env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def free_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: A progress line off a terminal starts with the time: `12:03:04 orders (full): 40/300 pages`.
PROGRESS_LINE = re.compile(r"^\d\d:\d\d:\d\d \S")


def progress_lines(stderr: str) -> list[str]:
    """The progress lines on stderr."""
    return [line for line in stderr.splitlines() if PROGRESS_LINE.match(line)]


def error_lines(stderr: str) -> list[str]:
    """stderr without its progress lines: what went wrong, if anything."""
    return [line for line in stderr.strip().splitlines() if not PROGRESS_LINE.match(line)]
