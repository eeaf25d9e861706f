"""`preorders report`: render the backlog report (charts + one HTML page) from the warehouse."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.cli_support import run_guarded


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
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Read the dashboard views, render them, print where the page is and the next steps."""

    def body() -> None:
        page, steps = write(args.out)
        print(f"report: {page}")
        for line in steps:
            print(f"next:   {line}")

    return run_guarded("report", body)


def write(out: Path | None = None) -> tuple[Path, list[str]]:
    """Render the report of $PREORDERS_DUCKDB_PATH; its page and the next-step lines."""
    from preorders import render
    from preorders.next_steps import lines
    from preorders.settings import warehouse_from_env
    from preorders.status import require_synced

    settings = warehouse_from_env()
    with settings.connect() as conn:
        require_synced(conn, str(settings.path))  # an empty page must not pass for a report
        report = render.write_backlog_report(conn, str(settings.path), out)
    return report.files.html, lines(report.steps)
