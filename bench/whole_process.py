"""`preorders sync` as a user runs it, next to dlt's rest_api as a whole process and the floor.

    .venv/bin/python bench/whole_process.py [--scenario typical|large|deployment ...]
                                            [--orders N] [--latency-ms L] [--shops N]
                                            [--skip-install]

Three scenarios in one run (issue 15), each served by bench/_server.py (a process of its own)
at STOQ's real limit, 360 points / 60 s per key, and reset (same data, empty log, fresh window)
before each contender:

  typical     5,000 orders, 300 ms per request   goal: ours <= 0.2 x dlt
  large      20,000 orders, 100 ms per request   goal: ours <= 1.1 x the floor
  deployment 20 shops x 5,000 orders, 300 ms     goal: CPU time <= 25 % of wall; ours only,
             over a PREORDERS_SHOPS file of 20 shops (each its own key and window), two ways:
             one `preorders sync` (the shops in threads), and a `preorders sync --shop NAME`
             process per shop started together (as Dagster runs a run per shop partition);
             CPU = the processes and their children, user + sys

  ours   `.venv/bin/preorders sync` from process start to exit: a fresh warehouse file, a warm
         DAGSTER_HOME (one unmeasured sync warms it first), the client's defaults (4 requests in
         flight, opening to STOQ_MAX_CONCURRENCY=16 after a slow page 1 while points are left;
         offers and orders walk at once).
  ours-fixed  the same with STOQ_MAX_CONCURRENCY=4: 4 in flight throughout, as before issue 15.
  dlt    dlt's rest_api source (the pipeline of bench/vs_dlt.py) into DuckDB, from process start
         to exit, in its own venv bench/.venvs/dlt (`make bench-venv`).
  floor  the orders' pages at the limit and the latency with 16 in flight
         (bench/_common.py::floor_for), plus an interpreter's start (`python -c pass`).

Requests and 429s come from the sandbox's request log. --orders / --latency-ms override every
chosen scenario (the smoke test runs tiny ones).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
from _common import (
    API_KEY,
    ROOT,
    LogFigures,
    SandboxProcess,
    arg_parser,
    contender_row,
    floor_for,
    fresh_db,
    out_dir,
    print_header,
    ratio,
    table,
    verdict,
)
from vs_dlt import DLT_SCRIPT, REQUIREMENTS, dlt_python

from pipelines.demo_files import shops_file_text
from preorders.settings import DEFAULT_MAX_CONCURRENCY
from sandbox import shop_key


@dataclass(frozen=True)
class Scenario:
    name: str
    orders: int
    latency_ms: int
    goal: str  # "dlt": ours <= `limit` x dlt; "floor": <= `limit` x the floor; "cpu": CPU/wall
    limit: float
    shops: int = 1


SCENARIOS = {
    "typical": Scenario("typical", 5_000, 300, "dlt", 0.2),
    "large": Scenario("large", 20_000, 100, "floor", 1.1),
    "deployment": Scenario("deployment", 5_000, 300, "cpu", 0.25, shops=20),
}
CONTENDERS = ("ours", "ours-fixed", "dlt")
PER_PAGE = 100  # the client's default page, and dlt's per_page
POINTS, WINDOW = 360, 60.0  # STOQ's real limit


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = arg_parser(__doc__)
    p.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    p.add_argument("--orders", type=int, help="orders in every chosen shop (default: its own)")
    p.add_argument("--latency-ms", type=int, help="latency of every chosen shop")
    p.add_argument("--shops", type=int, help="shops in the deployment scenario (default: 20)")
    p.add_argument("--only", choices=CONTENDERS, action="append")
    p.add_argument("--skip-install", action="store_true", help="use bench/.venvs/dlt as it is")
    return p.parse_args(argv)


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """(seconds from process start to exit, stdout); the process must exit 0."""
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def python_start(code: str = "pass") -> float:
    """The least of three interpreter starts running `code`; with `pass`, the floor's share
    for starting a process."""
    return min(timed([sys.executable, "-c", code], dict(os.environ), ROOT)[0] for _ in range(3))


#: What any sync that talks HTTP and loads with DuckDB (and pandas, as ours does) must import
#: before its first request; not in the floor, shown beside it.
SYNC_IMPORTS = "import httpx, duckdb, pandas"


def preorders_sync() -> list[str]:
    """`preorders sync` as installed next to this interpreter (.venv/bin/preorders)."""
    script = Path(sys.executable).parent / "preorders"
    if script.exists():
        return [str(script), "sync"]
    return [sys.executable, "-m", "pipelines.cli", "sync"]


def ours_env(server: SandboxProcess, db: Path, fixed: bool) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("STOQ_", "PREORDERS_"))}
    return base | {
        "STOQ_API_KEY": API_KEY,
        "STOQ_BASE_URL": server.base_url,
        "PREORDERS_DUCKDB_PATH": str(db),
        "DAGSTER_HOME": str(out_dir() / "whole_process_dagster_home"),
        **({"STOQ_MAX_CONCURRENCY": "4"} if fixed else {}),
    }


def run_ours(server: SandboxProcess, name: str, fixed: bool = False) -> dict:
    cmd = preorders_sync()
    if not fixed:  # warm the home once per scenario, then start the window afresh
        timed(cmd, ours_env(server, fresh_db(f"whole_{name}_warmup.duckdb"), fixed), ROOT)
        server.reset()
    db = fresh_db(f"whole_{name}_ours.duckdb")
    seconds, _ = timed(cmd, ours_env(server, db, fixed), ROOT)
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute("select count(*) from orders").fetchone()
        # What the sync itself spent on its streams (walks, frames, merges): from the first
        # stream's start to the last one's end (they overlap).
        streams = conn.execute(
            "select epoch(max(finished_at)) - epoch(min(started_at)) from sync_runs"
        ).fetchone()
    work = float(streams[0] or 0.0) if streams else 0.0
    note = f"offers + orders: streams {work:.1f} s, the rest {seconds - work:.1f} s"
    return {"wall": seconds, "rows": rows[0] if rows else 0, "note": note}


def run_dlt(server: SandboxProcess, name: str, python: str) -> dict:
    script = out_dir() / "whole_process_dlt.py"
    script.write_text(DLT_SCRIPT)
    env = {
        **os.environ,
        "STOQ_API_KEY": API_KEY,
        "BENCH_DLT_PIPELINES_DIR": str(out_dir() / "whole_process_dlt_pipelines"),
        "DLT_DATA_DIR": str(out_dir() / "whole_process_dlt_data"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",  # the benchmark only talks to 127.0.0.1
        "RUNTIME__LOG_LEVEL": "WARNING",
    }
    db = fresh_db(f"whole_{name}_dlt.duckdb")
    cmd = [python, str(script), server.base_url, str(db), str(PER_PAGE)]
    seconds, stdout = timed(cmd, env, out_dir())
    result = json.loads(stdout.strip().splitlines()[-1])
    note = f"orders only; {result['import_s']:.1f} s import, {result['wall']:.1f} s pipeline.run"
    return {"wall": seconds, "rows": result["rows"], "note": note}


def sandbox_settings(scenario: Scenario) -> dict[str, int | float]:
    """The sandbox of a scenario: its orders and latency at STOQ's real limit, 100 per page."""
    return {
        "orders": scenario.orders,
        "latency_ms": scenario.latency_ms,
        "rate_limit_points": POINTS,
        "rate_limit_window": WINDOW,
        "per_page_max": PER_PAGE,
    }


def run_deployment(scenario: Scenario) -> None:
    """Every shop of a shops file synced two ways: one `preorders sync` (threads), as the CLI
    does, and one `preorders sync --shop NAME` process per shop started together, as a Dagster
    deployment runs one run per shop partition."""
    config = sandbox_settings(scenario)
    rows: list[tuple] = []
    with SandboxProcess(shops=scenario.shops, **config) as server:
        names = list(server.shops)
        keys = {name: f"STOQ_API_KEY_{name.upper()}" for name in names}
        shops_file = out_dir() / "whole_process_shops.yaml"
        shops_file.write_text(shops_file_text(keys))
        env = ours_env(server, fresh_db("whole_deployment_warmup.duckdb"), fixed=False)
        env |= {"PREORDERS_SHOPS": str(shops_file)}
        env |= {var: shop_key(int(name.removeprefix("shop"))) for name, var in keys.items()}
        timed(preorders_sync(), env, ROOT)  # warm the Dagster home; then fresh windows
        ways = {
            "one process": [preorders_sync()],
            "a process per shop": [[*preorders_sync(), "--shop", name] for name in names],
        }
        for way, commands in ways.items():
            for name in names:
                server.reset_shop(name)
            db = fresh_db(f"whole_deployment_{len(commands)}.duckdb")
            server_before = server.cpu_seconds()
            seconds, cpu = all_at_once(commands, env | {"PREORDERS_DUCKDB_PATH": str(db)})
            served = server.cpu_seconds() - server_before
            logs = [LogFigures.of(server.shop_log(name)) for name in names]
            with duckdb.connect(str(db), read_only=True) as conn:
                (committed,) = conn.execute("select count(*) from orders").fetchone() or (0,)
            share = cpu / seconds
            requests = sum(log.requests for log in logs)
            limited = sum(log.rate_limited for log in logs)
            rows.append((way, seconds, cpu, share, served, committed, requests, limited))
            ok = verdict(share <= scenario.limit)
            print(f"{scenario.name} {way}: CPU / wall = {share:.3f} (goal <= {scenario.limit:g})"
                  f" -> {ok}; 429 responses {limited}", flush=True)  # fmt: skip
    print(
        table(
            f"{scenario.name}: {scenario.shops} shops x {scenario.orders:,} orders, "
            f"{scenario.latency_ms} ms, {POINTS}/{WINDOW:g} s per key; whole processes",
            rows,
            ("way", "wall s", "CPU s", "CPU/wall", "server CPU s", "orders", "requests", "429s"),
        )
    )


def all_at_once(commands: list[list[str]], env: dict[str, str]) -> tuple[float, float]:
    """(seconds from the first start to the last exit, CPU seconds of them and their children,
    user + sys); every process must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    procs = [
        subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
        for cmd in commands
    ]  # fmt: skip
    failures = [
        (p.args, err) for p in procs if (err := p.communicate(timeout=1800)[1]) and p.returncode
    ]
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{failures[0][0]} failed:\n{failures[0][1][-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_scenario(scenario: Scenario, args: argparse.Namespace, python: str, start: float) -> None:
    if scenario.shops > 1:
        run_deployment(scenario)
        return
    only = set(args.only or CONTENDERS)
    config = sandbox_settings(scenario)
    results: dict[str, dict] = {}
    with SandboxProcess(**config) as server:
        for name in CONTENDERS:
            if name not in only:
                continue
            server.reset()
            if name == "dlt":
                res = run_dlt(server, scenario.name, python)
            else:
                res = run_ours(server, scenario.name, fixed=name == "ours-fixed")
            res["log"] = LogFigures.of(server.log())
            results[name] = res
            print(f"# {scenario.name} {name}: {res['wall']:.1f} s", flush=True)
    pages = math.ceil(scenario.orders / PER_PAGE)
    api = floor_for(
        pages, points=POINTS, window=WINDOW, latency_s=scenario.latency_ms / 1000,
        concurrency=DEFAULT_MAX_CONCURRENCY,
    )  # fmt: skip
    floor = api.seconds + start
    rows = [contender_row(name, r, floor) for name, r in results.items()]
    bound = f"{api.bound}-bound at {DEFAULT_MAX_CONCURRENCY} in flight + {start:.3f} s start"
    rows.append(("floor", floor, pages, 0, scenario.orders, 1.0, bound))
    print(
        table(
            f"{scenario.name}: {scenario.orders:,} orders, {scenario.latency_ms} ms, "
            f"{POINTS}/{WINDOW:g} s, {pages} pages of {PER_PAGE}; whole processes",
            rows,
            ("contender", "wall s", "requests", "429s", "orders", "wall/floor", "note"),
        )
    )
    if "ours" in results and "dlt" in results:
        share = results["ours"]["wall"] / results["dlt"]["wall"]
        ok = share <= scenario.limit or scenario.goal != "dlt"
        goal = f" (goal <= {scenario.limit:g}) -> {verdict(ok)}" if scenario.goal == "dlt" else ""
        print(f"{scenario.name}: ours / dlt = {share:.3f}{goal}")
    if "ours" in results:
        share = ratio(results["ours"]["wall"], floor)
        ok = share <= scenario.limit
        goal = f" (goal <= {scenario.limit:g}) -> {verdict(ok)}" if scenario.goal == "floor" else ""
        print(f"{scenario.name}: ours / floor = {share:.3f}{goal}")
    limited = {name: r["log"].rate_limited for name, r in results.items()}
    print(f"{scenario.name}: 429 responses " + ", ".join(f"{k} {v}" for k, v in limited.items()))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = [SCENARIOS[name] for name in (args.scenario or SCENARIOS)]
    chosen = [
        Scenario(s.name, args.orders or s.orders, s.latency_ms if args.latency_ms is None
                 else args.latency_ms, s.goal, s.limit,
                 args.shops if args.shops and s.shops > 1 else s.shops)
        for s in chosen
    ]  # fmt: skip
    print_header(
        "whole_process",
        f"`preorders sync` and dlt's rest_api as whole processes, {POINTS}/{WINDOW:g} s; "
        f"dlt from {REQUIREMENTS.name}: {REQUIREMENTS.read_text().split()[-1]}",
    )
    python = dlt_python(args.skip_install) if "dlt" in set(args.only or CONTENDERS) else ""
    start = python_start()
    print(f"# python -c pass: {start:.3f} s", flush=True)
    print(f"# python -c '{SYNC_IMPORTS}': {python_start(SYNC_IMPORTS):.3f} s", flush=True)
    for scenario in chosen:
        run_scenario(scenario, args, python, start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
