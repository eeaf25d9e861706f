"""`preorders demo`: a local sandbox, a real sync into DuckDB, and the backlog; no key needed.

The demo is a list of steps (`STEPS`), each `(title, function(demo) -> exit code or None)`, run in
order against one running sandbox; later features (release plan, release, report) add theirs.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DEMO_DB = "data/demo.duckdb"


@dataclass
class Demo:
    """What the steps share: the parsed flags, the running sandbox, the warehouse path."""

    args: argparse.Namespace
    sandbox: Any  # sandbox.RunningSandbox
    db_path: str
    notes: dict[str, Any] = field(default_factory=dict)


Step = Callable[[Demo], int | None]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `demo` subcommand."""
    p = subparsers.add_parser("demo", help="Sync a local STOQ sandbox into DuckDB (no key needed).")
    p.add_argument("--db", default=DEFAULT_DEMO_DB, help="DuckDB file, recreated on each run")
    p.add_argument("--orders", type=int, default=500, help="orders in the sandbox shop")
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(handler=run)


def step_sync(demo: Demo) -> int:
    """Run the sync_preorders job against the sandbox (a first, full sync)."""
    from pipelines.commands.sync import run_sync

    return run_sync("auto")


def step_backlog(demo: Demo) -> None:
    """Print the open backlog per state from the preorder_backlog view."""
    from pipelines.resources import WarehouseResource
    from warehouse import checks

    with WarehouseResource().get_connection() as conn:
        rows = checks.backlog_by_state(conn)
    print(f"{'state':<18} {'orders':>7} {'units':>7} {'deposits':>12} {'outstanding':>12}")
    for state, orders, units, deposits, outstanding in rows:
        print(f"{state:<18} {orders:>7} {units:>7} {deposits:>12} {outstanding:>12}")
    print("(an order with several offers counts once per offer)")


STEPS: list[tuple[str, Step]] = [
    ("sync the sandbox into DuckDB", step_sync),
    ("open preorder backlog", step_backlog),
]


def run(args: argparse.Namespace) -> int:
    """Start the sandbox, point this process at it, run every step, stop the sandbox."""
    import sandbox

    db = Path(args.db)
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    config = sandbox.SandboxConfig(seed=args.seed, orders=args.orders)
    with sandbox.serve(config) as running:
        os.environ["STOQ_API_KEY"] = sandbox.DEFAULT_API_KEY
        os.environ["STOQ_BASE_URL"] = running.base_url
        os.environ["PREORDERS_DUCKDB_PATH"] = str(db)
        print(f"sandbox: {running.base_url} ({args.orders} orders, seed {args.seed})")
        demo = Demo(args, running, str(db))
        for number, (title, step) in enumerate(STEPS, start=1):
            print(f"\n[{number}/{len(STEPS)}] {title}")
            code = step(demo)
            if code:
                return code
    print(f"\nwarehouse: {db} (open it with duckdb, or `dagster dev` with the same env)")
    return 0
