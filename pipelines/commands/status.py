"""`preorders status`: what the warehouse says now; no key, no request, never creates the file.

Without PREORDERS_SHOPS (one shop, `default`) the output is as it always was; with a shops file
it has a section per shop (every shop, or the one `--shop` names), and `--json` a `shops` object
keyed by name.
"""

from __future__ import annotations

import argparse
import json

from pipelines.cli_support import (
    Echo,
    add_shop_arg,
    fail,
    run_guarded,
    scrub,
    shop_names,
    shops_file_set,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `status` subcommand."""
    p = subparsers.add_parser(
        "status",
        help="Show the last sync per stream, releasable orders, open ledger rows, jobs in flight.",
        description="Read the warehouse alone (no key, no request): per shop and stream the "
        "last sync (mode, outcome, age, high-water mark, rows), the orders a release would send "
        "now, the ledger rows still open per status and the STOQ jobs in flight. Exit 1 when "
        "the warehouse was never synced (for the shop named: never synced for it).",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_shop_arg(p, every_by_default=True)
    p.set_defaults(handler=lambda a: run_guarded("status", lambda: show_status(a)))


def show_status(args: argparse.Namespace, echo: Echo = print) -> int:
    """Print the status (lines, or JSON with --json); 1 and one line when nothing was synced."""
    from pathlib import Path

    from preorders.settings import warehouse_from_env
    from preorders.status import read_status
    from preorders.status_text import as_dict, as_lines, shops_dict, shops_lines

    names = shop_names(args.shop)  # a bad file or an unknown shop: exit 2, file untouched
    settings = warehouse_from_env()
    if not Path(settings.path).exists():  # opening it would create it (and its folder)
        return unsynced(args, settings.path, "no such file", echo)
    with settings.connect() as conn:
        statuses = [read_status(conn, shop=name) for name in names]
    if not any(s.synced for s in statuses):
        shop = args.shop or "default"
        return unsynced(args, settings.path, "no sync runs recorded", echo, shop)
    if not shops_file_set():  # the one `default` shop: the output as before shops
        (status,) = statuses
        lines = as_lines(status)
        facts = as_dict(status)
    else:
        lines, facts = shops_lines(statuses), shops_dict(statuses)
    if args.json:
        echo(scrub(json.dumps(facts, indent=2)))
    else:
        for line in lines:
            echo(scrub(line))  # a failed run's message may quote the server's text
    return 0


def unsynced(
    args: argparse.Namespace, path: str, why: str, echo: Echo, shop: str = "default"
) -> int:
    """Say the warehouse at `path` was never synced (and, with --json, print that as JSON)."""
    from preorders.status import never_synced

    message = never_synced(path, why, shop)
    if args.json:
        echo(scrub(json.dumps({"warehouse": path, "synced": False, "error": message}, indent=2)))
    return fail("status", message)
