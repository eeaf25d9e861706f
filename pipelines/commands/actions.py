"""`preorders actions`: ledger rows by status, why each is there and what unblocks it;
`preorders actions settle KEY --as applied|not-applied --reason TEXT` settles one by hand.

No key and no request: both read (and settle writes) the warehouse alone. The statuses and how
they map to the ledger's own are in `preorders.actions.review`. `--shop NAME`: that shop's rows;
without it, the single shop's, and with several shops an error naming them (exit 2).
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pipelines.cli_support import (
    USAGE,
    Echo,
    add_shop_arg,
    fail,
    run_guarded,
    scrub,
    selected_shop,
)

if TYPE_CHECKING:
    import duckdb

# The vocabulary of preorders.actions.review.STATUSES (tests check they agree), here so that
# parsing the arguments loads no DuckDB.
STATUSES = ("open", "sent", "unknown", "failed", "blocked")
VERDICTS = {"applied": True, "not-applied": False}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `actions` subcommand and its `settle` verb."""
    p = subparsers.add_parser(
        "actions",
        help="List ledger rows by status, with why and what unblocks each; settle one by hand.",
        description="Read the order_actions ledger (no key, no request): open (claimed, not "
        "sent), sent, unknown, failed and blocked (refused or skipped) rows, each with its key, "
        "order, action, attempt, when it was sent, its bulk job, why it is in that state and "
        "what unblocks it. Failed and blocked rows show while their order still waits.",
    )
    p.add_argument(
        "--status", nargs="+", action="extend", choices=STATUSES, metavar="STATUS",
        help=f"only these statuses ({', '.join(STATUSES)}; default: all)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_shop_arg(p)
    p.set_defaults(handler=lambda a: run_guarded("actions", lambda: list_actions(a)))
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    settle = verbs.add_parser(
        "settle",
        help="Settle one open row by hand (recorded with who and why, never deleted).",
        description="Settle an open (planned, sent or unknown) ledger row: `applied` closes it; "
        "`not-applied` makes its order eligible again (the next run sends a new attempt). "
        "The row keeps its history; your name and reason are recorded next to it.",
    )
    settle.add_argument("key", metavar="KEY", help="the row's key (see `preorders actions`)")
    settle.add_argument(
        "--as", dest="verdict", required=True, choices=tuple(VERDICTS),
        help="applied: it took effect in STOQ; not-applied: it did not (the order may go again)",
    )  # fmt: skip
    settle.add_argument("--reason", required=True, metavar="TEXT", help="why (recorded)")
    settle.add_argument("--by", default=None, metavar="NAME", help="who (default: your login)")
    add_shop_arg(settle)
    settle.set_defaults(handler=settle_row)


def list_actions(args: argparse.Namespace, echo: Echo = print) -> int:
    """Print the rows by status (or JSON); 1 with one line when the warehouse never synced."""
    from datetime import UTC, datetime

    from preorders.actions import review
    from preorders.actions.rules import ActionSettings

    shop = selected_shop(args.shop).name  # before the warehouse: a bad choice is exit 2
    settings = ActionSettings.from_env()  # both holds: a bad one is a usage error (exit 2)
    with synced_warehouse(shop) as conn:
        now = datetime.now(UTC)
        found = review.entries(conn, args.status, settings, now, shop=shop)
    if args.json:
        echo(scrub(json.dumps(review.as_dict(found, now), indent=2)))
    else:
        for line in review.as_lines(found, now):
            echo(scrub(line))  # a note or hint may quote the server's text
    return 0


def settle_row(args: argparse.Namespace, echo: Echo = print) -> int:
    """Settle one row; 2 for a blank reason, 1 when the row is missing or already settled."""
    from preorders.actions.operator import ReasonRequired, operator_reason, settle_by_hand

    try:  # the core's rule, checked before the warehouse is opened
        reason = operator_reason(args.reason)
    except ReasonRequired:
        return fail("actions settle", "--reason needs a non-blank TEXT (it is recorded)", USAGE)
    by = (args.by or "").strip() or _login()

    def body() -> int:
        shop = selected_shop(args.shop).name
        with synced_warehouse(shop) as conn:
            done = settle_by_hand(
                conn, args.key, applied=VERDICTS[args.verdict], reason=reason, by=by, shop=shop
            )
        echo(scrub(done.line()))
        return 0

    return run_guarded("actions settle", body)


@contextmanager
def synced_warehouse(shop: str = "default") -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse in force, refused (NeverSynced: exit 1) when its file is missing (it is
    never created) or `shop`'s orders never synced."""
    from pathlib import Path

    from preorders.settings import warehouse_from_env
    from preorders.status import NeverSynced, never_synced, require_synced

    settings = warehouse_from_env()
    if not Path(settings.path).exists():  # opening it would create it (and its folder)
        raise NeverSynced(never_synced(settings.path, "no such file", shop))
    with settings.connect() as conn:
        require_synced(conn, settings.path, ("orders",), shop=shop)
        yield conn


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no LOGNAME/USER and no passwd entry (some containers)
        return "unknown operator"
