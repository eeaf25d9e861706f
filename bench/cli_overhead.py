"""CLI process overhead: wall seconds of short `preorders` commands, each run as a user runs it.

    .venv/bin/python bench/cli_overhead.py [--runs 5] [--root PATH] [--only NAME ...]

Each command runs `--runs` times as a child process (`python -m pipelines.cli ...`, cwd = the
checkout) and the table shows min / median / max wall seconds: interpreter start, imports,
argument parsing and the command's own work. The commands "with key" talk to a sandbox this
script starts on 127.0.0.1 (no latency, no rate limit in the way: a handful of requests), so
their wall is the overhead plus a few loopback round trips. `jobs poll` polls an export job that
finished at submission (one status read). `report` renders the 20-order shop, synced once first
(its own work is pandas, DuckDB and matplotlib: 1.2 s of imports no command layout can avoid).

`--root` runs another checkout with this venv (e.g. a `git archive` of an older commit), so
figures can be taken side by side; its packages shadow the editable install because the child's
cwd is first on sys.path. The goal (issue 10): <= 0.5 s for --help, offers list, jobs poll,
help-manifest. To see where a command's time goes:
`.venv/bin/python -X importtime -m pipelines.cli offers list 2>&1 | sort -t'|' -k2 -n | tail`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _common import API_KEY, ROOT, SandboxProcess, arg_parser, print_header, table

from pipelines.cli_support import ensure_dagster_home
from stoq import StoqClient

GOAL_S = 0.5
FAST = ("--help", "offers list", "help-manifest", "jobs poll")  # the commands the goal is for


def wall(cmd: Sequence[str], env: dict[str, str], cwd: Path, runs: int) -> tuple[list[float], int]:
    """Wall seconds of each of `runs` runs of `cmd`, and the exit code of the last one."""
    times: list[float] = []
    code = 0
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        code = done.returncode
    return times, code


def base_env(scratch: Path) -> dict[str, str]:
    """The parent's environment minus STOQ_*/PREORDERS_*, with scratch DuckDB and Dagster home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOQ_", "PREORDERS_"))}
    home = ensure_dagster_home(scratch / "dagster_home")
    return env | {"DAGSTER_HOME": str(home), "PREORDERS_DUCKDB_PATH": str(scratch / "w.duckdb")}


def finished_job(base_url: str, api_key: str) -> str:
    """The status_url of an export job that is already done (the sandbox runs job_steps=0)."""
    with StoqClient(api_key, base_url) as client:
        name = client.list_reports()[0]["name"]
        handle = client.start_export(name)
        client.wait_for_job(handle, timeout=30, initial_interval=0.05)
    return handle.status_url


def main() -> None:
    parser = arg_parser(__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs per command (min is reported)")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to run the CLI from")
    parser.add_argument("--only", nargs="+", default=None, help="only commands starting so")
    args = parser.parse_args()
    root = args.root.resolve()
    python = sys.executable
    cli = [python, "-m", "pipelines.cli"]
    print_header("cli_overhead.py", f"runs {args.runs}  root {root}  python {python}")

    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(orders=20, job_steps=0) as server:
        scratch = Path(tmp)
        no_key = base_env(scratch)
        keyed = no_key | {"STOQ_API_KEY": API_KEY, "STOQ_BASE_URL": server.base_url}
        status_url = finished_job(server.base_url, API_KEY)
        # `report` refuses a warehouse that never synced: give it the 20-order shop to render.
        subprocess.run([*cli, "sync"], env=keyed, cwd=root, capture_output=True, check=True)
        cases: list[tuple[str, list[str], dict[str, str]]] = [
            ("python -c pass (floor)", [python, "-c", "pass"], no_key),
            ("--help", [*cli, "--help"], no_key),
            ("offers list, no key (exit 2)", [*cli, "offers", "list"], no_key),
            ("offers list, with key", [*cli, "offers", "list"], keyed),
            ("help-manifest, no key (exit 2)", [*cli, "help-manifest"], no_key),
            ("help-manifest, with key", [*cli, "help-manifest"], keyed),
            ("jobs poll, no key (exit 2)", [*cli, "jobs", "poll", status_url], no_key),
            ("jobs poll, with key (done job)", [*cli, "jobs", "poll", status_url], keyed),
            ("report (20 orders)", [*cli, "report"], no_key),
        ]
        rows = []
        for name, cmd, env in cases:
            if args.only and not any(name.startswith(o) for o in args.only):
                continue
            times, code = wall(cmd, env, root, args.runs)
            fast = name.startswith(FAST)
            goal = (f"<= {GOAL_S} " + ("met" if min(times) <= GOAL_S else "MISSED")) if fast else ""
            rows.append((name, code, min(times), statistics.median(times), max(times), goal))
    print(
        table("wall seconds per command", rows, ("command", "exit", "min", "median", "max", "goal"))
    )


if __name__ == "__main__":
    main()
