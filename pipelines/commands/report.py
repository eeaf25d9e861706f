"""`preorders report`: render the backlog report (charts + one HTML page) from the warehouse.

Without PREORDERS_SHOPS as before shops. With a shops file the page shows every shop (each view
carries its shop) and the next steps of each, every command naming its shop; `--shop NAME` cuts
the page and the steps to that shop.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.cli_support import add_shop_arg, run_guarded


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `report` subcommand."""
    p = subparsers.add_parser(
        "report", help="Write the backlog report (PNG charts + one self-contained HTML page)."
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for backlog.html and the PNGs (default: report/ next to the DuckDB file)",
    )
    add_shop_arg(p, every_by_default=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Read the dashboard views, render them, print where the page is and the next steps."""

    def body() -> None:
        page, steps = write(args.out, args.shop)
        print(f"report: {page}")
        for line in steps:
            print(f"next:   {line}")

    return run_guarded("report", body)


def write(out: Path | None = None, shop: str | None = None) -> tuple[Path, list[str]]:
    """Render the report of $PREORDERS_DUCKDB_PATH (of `shop`, else of every shop); its page and
    the next-step lines."""
    from pipelines.cli_support import shop_names, shops_file_set
    from preorders import render
    from preorders.next_steps import lines
    from preorders.settings import warehouse_from_env
    from preorders.status import NeverSynced, require_synced

    names = shop_names(shop)  # a bad file or choice: exit 2, no file made
    settings = warehouse_from_env()
    path = str(settings.path)
    with settings.connect() as conn:
        # An empty page must not pass for a report: the shop named, else some shop, synced.
        problems = []
        for name in names:
            try:
                require_synced(conn, path, shop=name)
            except NeverSynced as exc:
                problems.append(exc)
        if problems and (shop is not None or len(problems) == len(names)):
            raise problems[0]
        if not shops_file_set():  # the one `default` shop: the report as before shops
            report = render.write_backlog_report(conn, path, out)
        else:
            report = render.write_backlog_report(conn, path, out, shops=names, only=shop)
    return report.files.html, lines(report.steps)
