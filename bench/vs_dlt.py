"""The same orders loaded three ways on the same sandbox and settings: ours, dlt, a plain loop.

    .venv/bin/python bench/vs_dlt.py [--orders 20000] [--latency-ms 250] [--points 360]
                                     [--window 60] [--skip-install]

  ours   preorders.sync.sync_orders(mode="full"): concurrent walk under the client's rate budget,
         frames, DuckDB merge.
  dlt    dlt's rest_api source into DuckDB (page_number paginator, base_page 1, page_param
         page, total_path meta.total_pages, X-Auth-Token by api_key auth in the header), run
         in a subprocess from its own venv bench/.venvs/dlt (bench/requirements-dlt.txt).
         dlt's default retry waits out 429s (Retry-After honoured); we count them.
  httpx  a plain sequential httpx loop over pages 1..total_pages (fetch only, sleeps on 429).
Requests and 429s come from the sandbox's request log; the shop is reset (same seeded data,
empty log, fresh rate window) before each contender. Goal: ours >= 2x faster than dlt.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
import venv

import httpx
from _common import (
    API_KEY,
    BENCH,
    LogFigures,
    SandboxProcess,
    add_sandbox_args,
    arg_parser,
    contender_row,
    fresh_db,
    fresh_warehouse,
    measure,
    out_dir,
    print_header,
    sandbox_config,
    stoq_client,
    table,
    verdict,
    walk_floor,
)

from preorders.sync import sync_orders

GOAL_SPEEDUP = 2.0
DLT_VENV = BENCH / ".venvs" / "dlt"
REQUIREMENTS = BENCH / "requirements-dlt.txt"

DLT_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time

    started_import = time.perf_counter()
    import dlt
    from dlt.sources.rest_api import rest_api_source
    imported = time.perf_counter() - started_import

    base_url, db_path, per_page = sys.argv[1], sys.argv[2], int(sys.argv[3])
    source = rest_api_source({
        "client": {
            "base_url": base_url + "/",
            "auth": {
                "type": "api_key",
                "name": "X-Auth-Token",
                "api_key": os.environ["STOQ_API_KEY"],
                "location": "header",
            },
            "paginator": {
                "type": "page_number",
                "base_page": 1,
                "page_param": "page",
                "total_path": "meta.total_pages",
            },
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "replace"},
        "resources": [
            {
                "name": "orders",
                "endpoint": {
                    "path": "preorders/orders",
                    "params": {"per_page": per_page},
                    "data_selector": "orders",
                },
            }
        ],
    })
    pipeline = dlt.pipeline(
        pipeline_name="stoq_bench",
        destination=dlt.destinations.duckdb(db_path),
        dataset_name="stoq",
        pipelines_dir=os.environ["BENCH_DLT_PIPELINES_DIR"],
    )
    started = time.perf_counter()
    pipeline.run(source)
    wall = time.perf_counter() - started
    import duckdb
    with duckdb.connect(db_path) as conn:
        rows = conn.execute("select count(*) from stoq.orders").fetchone()[0]
    print(json.dumps({"wall": wall, "import_s": imported, "rows": rows}))
    """
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = arg_parser(__doc__)
    add_sandbox_args(p, orders=20_000, latency_ms=250, points=360, window=60.0, per_page=True)
    p.add_argument("--skip-install", action="store_true", help="use bench/.venvs/dlt as it is")
    p.add_argument("--only", choices=("ours", "dlt", "httpx"), action="append")
    return p.parse_args(argv)


def dlt_python(skip_install: bool) -> str:
    """bench/.venvs/dlt/bin/python, created and filled from requirements-dlt.txt if needed."""
    python = DLT_VENV / "bin" / "python"
    stamp = DLT_VENV / ".installed"
    wanted = REQUIREMENTS.read_text()
    if skip_install and python.exists():
        return str(python)
    if not python.exists():
        print(f"# creating {DLT_VENV}")
        venv.EnvBuilder(with_pip=True).create(DLT_VENV)
    if not stamp.exists() or stamp.read_text() != wanted:
        print(f"# installing {REQUIREMENTS.name} into {DLT_VENV} (once)")
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-r", str(REQUIREMENTS)],
            check=True,
        )  # fmt: skip
        stamp.write_text(wanted)
    return str(python)


def run_ours(server: SandboxProcess, args: argparse.Namespace) -> dict:
    conn = fresh_warehouse("vs_dlt_ours.duckdb")
    with stoq_client(server, args) as client, measure() as took:
        sync_orders(client, conn, run_id="bench-vs-dlt", mode="full")
    rows = conn.execute("select count(*) from orders").fetchone()[0]
    conn.close()
    note = f"concurrency {args.concurrency}, DuckDB merge"
    return {"wall": took.seconds, "rows": rows, "note": note}


def run_dlt(server: SandboxProcess, args: argparse.Namespace, python: str) -> dict:
    script = out_dir() / "dlt_run.py"
    script.write_text(DLT_SCRIPT)
    db = fresh_db("vs_dlt_dlt.duckdb")
    env = {
        **os.environ,
        "STOQ_API_KEY": API_KEY,
        "BENCH_DLT_PIPELINES_DIR": str(out_dir() / "dlt_pipelines"),
        "DLT_DATA_DIR": str(out_dir() / "dlt_data"),
        # No telemetry: the benchmark only ever talks to 127.0.0.1.
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "RUNTIME__LOG_LEVEL": "WARNING",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [python, str(script), server.base_url, str(db), str(args.per_page)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=out_dir(),
    )
    total = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"dlt run failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    note = f"pipeline.run; process {total:.1f} s incl. {result['import_s']:.1f} s import"
    return {"wall": result["wall"], "rows": result["rows"], "note": note}


def run_httpx(server: SandboxProcess, args: argparse.Namespace) -> dict:
    records = 0
    started = time.perf_counter()
    headers = {"X-Auth-Token": API_KEY}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as http:
        page, total_pages = 1, 1
        attempts = 0
        while page <= total_pages and attempts < 100_000:
            attempts += 1
            r = http.get("/preorders/orders", params={"page": page, "per_page": args.per_page})
            if r.status_code == 429:
                time.sleep(float(r.headers.get("retry-after", "1")))
                continue
            r.raise_for_status()
            body = r.json()
            records += len(body["orders"])
            total_pages = body["meta"]["total_pages"]
            page += 1
    wall = time.perf_counter() - started
    return {"wall": wall, "rows": records, "note": "sequential, fetch only (no warehouse)"}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print_header(
        "vs_dlt",
        f"{args.orders:,} orders, latency {args.latency_ms} ms, limit {args.points} points / "
        f"{args.window:g} s, per_page {args.per_page}; dlt from {REQUIREMENTS.name}: "
        f"{REQUIREMENTS.read_text().split()[-1]}",
    )
    only = set(args.only or ("ours", "dlt", "httpx"))
    python = dlt_python(args.skip_install) if "dlt" in only else ""
    results: dict[str, dict] = {}
    with SandboxProcess(**sandbox_config(args)) as server:
        for name in ("ours", "dlt", "httpx"):
            if name not in only:
                continue
            server.reset()
            if name == "ours":
                res = run_ours(server, args)
            elif name == "dlt":
                res = run_dlt(server, args, python)
            else:
                res = run_httpx(server, args)
            res["log"] = LogFigures.of(server.log())
            results[name] = res
            print(f"# {name}: {res['wall']:.1f} s", flush=True)
        expected = server.orders
    pages, floor = walk_floor(args)
    rows = [contender_row(name, r, floor.seconds) for name, r in results.items()]
    print(
        table(
            f"same data, same sandbox ({expected:,} orders, {pages} pages); floor "
            f"{floor.seconds:.1f} s ({floor.bound}-bound at concurrency {args.concurrency})",
            rows,
            ("loader", "wall s", "requests", "429s", "rows", "wall/floor", "note"),
        )
    )
    if "ours" in results and "dlt" in results:
        speedup = results["dlt"]["wall"] / results["ours"]["wall"]
        ok = speedup >= GOAL_SPEEDUP
        print(f"dlt wall / our wall = {speedup:.2f}x (goal >= {GOAL_SPEEDUP:g}x) -> {verdict(ok)}")
        hit = results["dlt"]["log"].rate_limited
        print(f"dlt hit {hit} 429 responses (its retry waited them out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
