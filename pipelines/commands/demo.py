"""`preorders demo`: two local sandbox shops synced into one DuckDB, released, reported; no key.

The demo is a list of steps (`STEPS`), each `(title, function(demo) -> exit code or None)`, run in
order against one running sandbox serving two shops (`shop1`, `shop2`, keyed as `preorders
sandbox --shops 2` does); a step that returns a non-zero code ends the demo with it. Most steps
run a `preorders` command in this process, printed as typed (`$ preorders …`), under the
environment the demo sets: its PREORDERS_SHOPS file and the shops' key variables. Each shop is
kept in a file next to the warehouse (pipelines/demo_files.py), so the Dagster UI the demo points
at afterwards serves the same shops the warehouse, the ledger and the Dagster home describe: what
the demo released stays released.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.demo_files import (
    finish_lines,
    shop_state_path,
    shops_file_path,
    shops_file_text,
    ui_commands,
)

DEFAULT_DEMO_DB = "data/demo.duckdb"
DEFAULT_SANDBOX_PORT = 8765
SHOPS = 2  # served on one port, named and keyed as `preorders sandbox --shops 2` does
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # no Dagster log lines
SHOWN = 5  # per-order lines shown of an action's output (the rest: counted)


@dataclass
class Demo:
    """What the steps share: the parsed flags, the running sandbox, the warehouse path."""

    args: argparse.Namespace
    sandbox: Any  # sandbox.RunningSandbox
    db_path: str
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def shops(self) -> list[str]:
        """The shops' names, shop1 first."""
        return list(self.sandbox.shops.shops)


Step = Callable[[Demo], int | None]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `demo` subcommand."""
    p = subparsers.add_parser(
        "demo",
        help=f"On {SHOPS} local STOQ sandbox shops, no key needed: sync, release, status, report.",
    )
    p.add_argument(
        "--db", default=DEFAULT_DEMO_DB,
        help="DuckDB file, recreated on each run; the shops and their PREORDERS_SHOPS file are"
        " saved next to it (<stem>-shop.json, <stem>-shop-shop2.json, <stem>-shops.yaml)",
    )  # fmt: skip
    p.add_argument("--orders", type=int, default=500, help="orders in each sandbox shop")
    p.add_argument("--seed", type=int, default=7, help="seed of shop1 (shop k: seed + k - 1)")
    p.add_argument(
        "--sandbox-port", type=int, default=DEFAULT_SANDBOX_PORT,
        help="port the printed way to open the Dagster UI serves the saved shops on",
    )  # fmt: skip
    p.set_defaults(handler=run)


def preorders(demo: Demo, *argv: str, shown: int | None = None) -> int:
    """Run `preorders <argv>` in this process as typed (printed first); its exit code.

    `shown`: print the first `shown` lines of its output, a count of the rest and its last line
    (an action prints one line per order, then its summary), and no progress lines (they would
    come before the lines shown). Errors go to stderr as they come.
    """
    from pipelines.cli import build_parser
    from pipelines.cli_support import progress_display

    print(f"$ preorders {shlex.join(argv)}")
    try:
        args = build_parser().parse_args(["--quiet", *argv] if demo.args.quiet else list(argv))
    except SystemExit as exc:  # argparse has printed why
        return int(exc.code or 0)
    args.progress = demo.args.progress
    if shown is None:
        return int(args.handler(args) or 0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), progress_display(quiet=True) as args.progress:
        code = int(args.handler(args) or 0)
    *lines, last = out.getvalue().splitlines() or ["nothing to do"]
    for line in lines[:shown]:
        print(f"  {line}")
    if len(lines) > shown:
        print(f"  ... {len(lines) - shown} more (ledger: order_actions)")
    print(last)
    return code


def step_dagster_home(demo: Demo) -> None:
    """Record the demo's runs in a Dagster home (DAGSTER_HOME, else one next to the warehouse)."""
    from pipelines.cli_support import ensure_dagster_home

    home = ensure_dagster_home(
        os.environ.get("DAGSTER_HOME") or Path(demo.db_path).resolve().parent / "dagster"
    )
    os.environ["DAGSTER_HOME"] = demo.notes["dagster_home"] = str(home)
    print(f"Dagster home: {home}")


def step_sync(demo: Demo) -> int:
    """Sync every shop (a first, full sync) into the one warehouse, recorded into Dagster."""
    return preorders(demo, "sync")


def step_backlog(demo: Demo) -> None:
    """Print the open backlog per shop and currency (report_money_by_currency); money never summed
    across currencies, rows never mixed across shops."""
    from pipelines.cli_support import open_warehouse
    from warehouse import dashboards

    with open_warehouse() as conn:
        money = dashboards.money_by_currency(conn)
    print(f"{'shop':<8} {'currency':<8} {'open':>6} {'awaiting':>9} {'releasable':>11} "
          f"{'deposits':>12} {'outstanding':>12}")  # fmt: skip
    for row in money.itertuples(index=False):
        print(f"{row.shop:<8} {row.currency or '-':<8} {row.open_orders:>6} "
              f"{row.awaiting_balance:>9} {row.releasable_orders:>11} "
              f"{row.deposit_collected:>12.2f} {row.outstanding_balance:>12.2f}")  # fmt: skip


def step_release_plan(demo: Demo) -> int:
    """Dry run per shop: which fully paid held orders a release would send (dry-run rows)."""
    print("(several shops: an action names its shop with --shop)")
    for shop in demo.shops:
        if code := preorders(demo, "release", "--shop", shop, "--dry-run", shown=SHOWN):
            return code
    return 0


def step_release(demo: Demo) -> int:
    """Release per shop for real on the sandbox: exactly once per order, many as one bulk job,
    each shop with its own key."""
    for shop in demo.shops:
        if code := preorders(demo, "release", "--shop", shop, shown=SHOWN):
            return code
    return 0


def step_resync(demo: Demo) -> int:
    """Sync every shop again (incremental) so the warehouse sees the released orders."""
    return preorders(demo, "sync", "--incremental")


def step_status(demo: Demo) -> int:
    """What the warehouse says now, a section per shop: last syncs, releasable, ledger, jobs."""
    return preorders(demo, "status")


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
    print(f"{meta['charts']} charts and the tables behind them, by shop; the backlog it shows:")
    step_backlog(demo)  # the figures per shop and currency, read as the report reads them
    return 0


STEPS: list[tuple[str, Step]] = [
    ("record runs in a Dagster home", step_dagster_home),
    ("sync both shops into one DuckDB", step_sync),
    ("open preorder backlog per shop", step_backlog),
    ("release plan per shop (dry run)", step_release_plan),
    ("release on the sandbox, per shop", step_release),
    ("sync again to see the releases", step_resync),
    ("status per shop", step_status),
    ("render the backlog report", step_report),
]


def state_files(db: Path) -> list[Path]:
    """Every shop's state file, shop1's first, as `preorders sandbox --state` names them."""
    from sandbox.shops import state_path

    return [state_path(shop_state_path(db), k) for k in range(1, SHOPS + 1)]


def run(args: argparse.Namespace) -> int:
    """Start the sandbox's shops (each kept in its file), write the shops file, point this
    process at them, run every step, stop the sandbox, print where to look next."""
    import sandbox
    from sandbox.shops import key_env
    from sandbox.state import SavedShop

    db = Path(args.db)
    shops_file, states = shops_file_path(db), state_files(db)
    for stale in (db, db.with_name(db.name + ".wal"), shops_file, *states):
        stale.unlink(missing_ok=True)
    shops = sandbox.Shops.seeded(  # shop k: seed + k - 1, its own key, kept in states[k - 1]
        SHOPS,
        sandbox.SandboxConfig(seed=args.seed, orders=args.orders),
        make=lambda k, config: SavedShop.open(states[k - 1], config),
    )
    key_envs = {name: key_env(name) for name, _ in shops}  # STOQ_API_KEY_SHOP1, …
    keys = {key_envs[name]: shops.key(name) for name in key_envs}  # sandbox keys
    shops_file.parent.mkdir(parents=True, exist_ok=True)
    shops_file.write_text(shops_file_text(key_envs), encoding="utf-8")
    with sandbox.serve(shops) as running:
        os.environ.pop("STOQ_API_KEY", None)  # a real key is never sent to the sandbox
        os.environ.update(keys)
        os.environ["PREORDERS_SHOPS"] = str(shops_file.resolve())
        os.environ["STOQ_BASE_URL"] = running.base_url  # every shop's: the file names none
        os.environ["PREORDERS_DUCKDB_PATH"] = str(db)
        print(f"sandbox: {running.base_url} ({SHOPS} shops, {args.orders} orders each)")
        for (name, shop), path in zip(shops, states, strict=True):
            print(f"  {name}: seed {shop.config.seed}, kept in {path.resolve()}")
        print(f"shops:   {shops_file.resolve()} (PREORDERS_SHOPS)")
        demo = Demo(args, running, str(db))
        for number, (title, step) in enumerate(STEPS, start=1):
            print(f"\n[{number}/{len(STEPS)}] {title}")
            code = step(demo)
            if code:
                return code
    for _, shop in shops:
        shop.save()  # as the demo leaves it, whatever the last request was
    base_url = f"http://127.0.0.1:{args.sandbox_port}{sandbox.BASE_PATH}"
    lines = ui_commands(
        str(db), SHOPS, keys, base_url, args.sandbox_port, demo.notes["dagster_home"]
    )
    print("\n".join(finish_lines(str(db), demo.shops, demo.notes.get("report"), lines)))
    return 0
