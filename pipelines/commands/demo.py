"""`preorders demo`: sync a local sandbox into DuckDB, release, report; no key needed.

The demo is a list of steps (`STEPS`), each `(title, function(demo) -> exit code or None)`, run in
order against one running sandbox; a step that returns a non-zero code ends the demo with it.
The sandbox's shop is kept in a file next to the warehouse (`<db stem>-shop.json`), so the Dagster
UI the demo points at afterwards serves the same shop the warehouse, the ledger and the Dagster
home describe: what the demo released stays released.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DEMO_DB = "data/demo.duckdb"
DEFAULT_SANDBOX_PORT = 8765
DAGSTER_UI = "http://127.0.0.1:3000"  # where `dagster dev` serves by default
OUTSTANDING = "outstanding_balance_"  # + currency: backlog_report's money metadata
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # no Dagster log lines


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
    p = subparsers.add_parser(
        "demo", help="On a local STOQ sandbox, no key needed: sync, release plan, release, report."
    )
    p.add_argument(
        "--db", default=DEFAULT_DEMO_DB,
        help="DuckDB file, recreated on each run; the shop is saved next to it (<stem>-shop.json)",
    )  # fmt: skip
    p.add_argument("--orders", type=int, default=500, help="orders in the sandbox shop")
    p.add_argument("--seed", type=int, default=7, help="seed of the generated shop")
    p.add_argument(
        "--sandbox-port", type=int, default=DEFAULT_SANDBOX_PORT,
        help="port the printed way to open the Dagster UI serves the saved shop on",
    )  # fmt: skip
    p.set_defaults(handler=run)


def step_sync(demo: Demo) -> int:
    """Sync the sandbox (a first, full sync), recorded into the Dagster home."""
    from pipelines.commands.sync import run_sync

    return run_sync("auto", progress=demo.args.progress, quiet=demo.args.quiet)


def step_backlog(demo: Demo) -> None:
    """Print the open backlog per state from the preorder_backlog view."""
    from pipelines.cli_support import open_warehouse
    from warehouse import checks

    with open_warehouse() as conn:
        rows = checks.backlog_by_state(conn)
    print(f"{'state':<18} {'currency':<8} {'orders':>7} {'units':>7} {'deposits':>12} "
          f"{'outstanding':>12}")  # fmt: skip
    for state, currency, orders, units, deposits, outstanding in rows:  # money never summed
        print(f"{state:<18} {currency or '-':<8} {orders:>7} {units:>7} {deposits:>12} "
              f"{outstanding:>12}")  # fmt: skip
    print("(an order with several offers counts once per offer)")


def step_dagster_home(demo: Demo) -> None:
    """Record the demo's runs in a Dagster home (DAGSTER_HOME, else one next to the warehouse)."""
    from pipelines.cli_support import ensure_dagster_home

    home = ensure_dagster_home(
        os.environ.get("DAGSTER_HOME") or Path(demo.db_path).resolve().parent / "dagster"
    )
    os.environ["DAGSTER_HOME"] = demo.notes["dagster_home"] = str(home)
    print(f"Dagster home: {home}")


def _release(demo: Demo, dry_run: bool) -> int:
    """Release every releasable order through the ledger (or plan it); a few lines + a summary."""
    from pipelines.cli_support import run_actions
    from preorders import actions

    lines: list[str] = []
    code = run_actions(
        "release",
        lambda client, conn: actions.release(client, conn, dry_run=dry_run),
        needs_key=not dry_run,
        echo=lines.append,
    )
    *outcomes, summary = lines or ["nothing to do"]
    for line in outcomes[:5]:
        print(f"  {line}")
    if len(outcomes) > 5:
        print(f"  ... {len(outcomes) - 5} more (ledger: order_actions)")
    print(summary)
    return code


def step_release_plan(demo: Demo) -> int:
    """Dry run: which fully paid held orders a release would send (recorded as dry-run rows)."""
    return _release(demo, dry_run=True)


def step_release(demo: Demo) -> int:
    """Release them for real on the sandbox: exactly once per order, many as one bulk job."""
    return _release(demo, dry_run=False)


def step_resync(demo: Demo) -> int:
    """Sync again (incremental) so the warehouse sees the released orders."""
    from pipelines.commands.sync import run_sync

    return run_sync("incremental", progress=demo.args.progress, quiet=demo.args.quiet)


def step_report(demo: Demo) -> int:
    """Materialize the backlog_report asset: PNG charts and one HTML page next to the warehouse."""
    import dagster as dg

    from pipelines.recording import materialize_report

    with dg.DagsterInstance.get() as instance:
        result = materialize_report(instance, QUIET)
    if not result.success:
        print("backlog_report failed; see `dagster dev` for the run's logs")
        return 1
    (materialization,) = result.asset_materializations_for_node("backlog_report")
    meta = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
    demo.notes["report"] = meta["path"]
    # Money is per currency (`outstanding_balance_<currency>`), never summed across them.
    outstanding = ", ".join(
        f"{value:,.2f} {key.removeprefix(OUTSTANDING)}"
        for key, value in sorted(meta.items())
        if key.startswith(OUTSTANDING)
    )
    print(
        f"open orders {meta['open_orders']}, releasable {meta['releasable_orders']}, "
        f"outstanding {outstanding or 'none'}; {meta['charts']} charts"
    )
    return 0


def shop_state_path(db: str | os.PathLike[str]) -> Path:
    """Where the demo keeps its sandbox shop: next to the warehouse, `<stem>-shop.json`."""
    path = Path(db)
    return path.with_name(f"{path.stem}-shop.json")


def _command(name: str) -> str:
    """`name` from the environment the demo runs in (the venv's bin folder), else from PATH."""
    beside = Path(sys.executable).parent / name  # not resolved: a venv's python is a symlink
    return str(beside) if beside.exists() else name


def ui_commands(demo: Demo) -> tuple[str, str]:
    """The two shell lines that open the Dagster UI on the demo's data, absolute paths only:
    serve the saved shop, then `dagster dev` with the demo's warehouse, key and Dagster home."""
    from sandbox import BASE_PATH, DEFAULT_API_KEY

    port = demo.args.sandbox_port
    state = shop_state_path(demo.db_path).resolve()
    serve = shlex.join(
        [_command("preorders"), "sandbox", "--state", str(state), "--port", str(port)]
    )
    env = {
        "PREORDERS_DUCKDB_PATH": str(Path(demo.db_path).resolve()),
        "STOQ_API_KEY": DEFAULT_API_KEY,
        "STOQ_BASE_URL": f"http://127.0.0.1:{port}{BASE_PATH}",
        "DAGSTER_HOME": demo.notes["dagster_home"],
    }
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    dagster = shlex.join([_command("dagster"), "dev", "-m", "pipelines.definitions"])
    return serve, f"{assignments} {dagster}"


def finish(demo: Demo) -> None:
    """Where to look next: the warehouse, the report page, the Dagster UI on the same data."""
    db = Path(demo.db_path).resolve()
    print(f"\nwarehouse: {db} (query the report_* views with duckdb; docs/DASHBOARDS.md)")
    if "report" in demo.notes:
        print(f"report:    {demo.notes['report']}")
    serve, dagster = ui_commands(demo)
    print(
        "\nDagster UI on the same data: the demo's shop, warehouse, ledger and runs.\n"
        "1. In one terminal, serve the shop the demo left (changes are saved back to its file):\n"
        f"  {serve}\n"
        "2. In another, start Dagster on the demo's warehouse and Dagster home:\n"
        f"  {dagster}\n"
        f"3. Open {DAGSTER_UI}. Orders the demo released stay released; a release_orders launch"
        " is a dry run unless dry_run is set to false."
    )


STEPS: list[tuple[str, Step]] = [
    ("record runs in a Dagster home", step_dagster_home),
    ("sync the sandbox into DuckDB", step_sync),
    ("open preorder backlog", step_backlog),
    ("release plan (dry run)", step_release_plan),
    ("release on the sandbox", step_release),
    ("sync again to see the releases", step_resync),
    ("render the backlog report", step_report),
]


def run(args: argparse.Namespace) -> int:
    """Start the sandbox (its shop kept in a file), point this process at it, run every step,
    stop the sandbox."""
    import sandbox
    from sandbox.state import SavedShop

    db = Path(args.db)
    state = shop_state_path(db)
    for stale in (db, db.with_name(db.name + ".wal"), state):
        stale.unlink(missing_ok=True)
    shop = SavedShop.open(state, sandbox.SandboxConfig(seed=args.seed, orders=args.orders))
    with sandbox.serve(shop) as running:
        os.environ["STOQ_API_KEY"] = sandbox.DEFAULT_API_KEY
        os.environ["STOQ_BASE_URL"] = running.base_url
        os.environ["PREORDERS_DUCKDB_PATH"] = str(db)
        print(f"sandbox: {running.base_url} ({args.orders} orders, seed {args.seed})")
        print(f"shop:    {state.resolve()} (every change is saved there)")
        demo = Demo(args, running, str(db))
        for number, (title, step) in enumerate(STEPS, start=1):
            print(f"\n[{number}/{len(STEPS)}] {title}")
            code = step(demo)
            if code:
                return code
    shop.save()  # the shop as the demo leaves it, whatever the last request was
    finish(demo)
    return 0
