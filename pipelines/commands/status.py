"""`preorders status`: what the warehouse says now; no key, no request, never creates the file."""

from __future__ import annotations

import argparse
import json

from pipelines.cli_support import Echo, fail, run_guarded, scrub


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `status` subcommand."""
    p = subparsers.add_parser(
        "status",
        help="Show the last sync per stream, releasable orders, open ledger rows, jobs in flight.",
        description="Read the warehouse alone (no key, no request): per stream the last sync "
        "(mode, outcome, age, high-water mark, rows), the orders a release would send now, the "
        "ledger rows still open per status and the STOQ jobs in flight. Exit 1 when the "
        "warehouse was never synced.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=lambda a: run_guarded("status", lambda: show_status(a)))


def show_status(args: argparse.Namespace, echo: Echo = print) -> int:
    """Print the status (lines, or JSON with --json); 1 and one line when nothing was synced."""
    from pathlib import Path

    from preorders.settings import warehouse_from_env
    from preorders.status import as_dict, as_lines, read_status

    settings = warehouse_from_env()
    if not Path(settings.path).exists():  # opening it would create it (and its folder)
        return unsynced(args, settings.path, "no such file", echo)
    with settings.connect() as conn:
        status = read_status(conn)
    if not status.synced:
        return unsynced(args, settings.path, "no sync runs recorded", echo)
    if args.json:
        echo(scrub(json.dumps(as_dict(status), indent=2)))
    else:
        for line in as_lines(status):
            echo(scrub(line))  # a failed run's message may quote the server's text
    return 0


def unsynced(args: argparse.Namespace, path: str, why: str, echo: Echo) -> int:
    """Say the warehouse at `path` was never synced (and, with --json, print that as JSON)."""
    from preorders.status import never_synced

    message = never_synced(path, why)
    if args.json:
        echo(scrub(json.dumps({"warehouse": path, "synced": False, "error": message}, indent=2)))
    return fail("status", message)
