"""`preorders charge`: charge awaiting balances exactly once; a dry run unless --execute."""

from __future__ import annotations

import argparse

from pipelines.cli_support import Echo, add_selection_args, add_shop_arg, fail, run_actions


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `charge` subcommand."""
    p = subparsers.add_parser(
        "charge",
        help="Charge outstanding balances (dry run unless --execute).",
        description="Charge the balance of awaiting_balance orders the ledger has not charged "
        "yet for their current version. Each order is re-read first; a lost response is "
        "settled by reading the order back, never by charging again.",
    )
    p.add_argument("--offer-id", default=None, metavar="UUID", help="only orders of this offer")
    add_selection_args(p)
    add_shop_arg(p)
    p.add_argument("--execute", action="store_true", help="really charge (default: dry run)")
    p.add_argument(
        "--charge-pending-hold", type=float, default=None, metavar="SECONDS",
        help="how long a charge STOQ accepted but has not applied yet stays open (read back "
        "each run) before it is judged not applied (default: $PREORDERS_CHARGE_PENDING_HOLD_S, "
        "else 3600)",
    )  # fmt: skip
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, echo: Echo = print) -> int:
    """Charge (or plan), printing a line per order."""
    from preorders import actions  # late: pandas and duckdb only for the commands that use them

    if args.limit is not None and args.limit < 1:
        return fail("charge", "--limit must be at least 1", 2)
    hold = args.charge_pending_hold
    try:  # the flag wins over the environment; a bad value of either is a usage error
        settings = actions.ActionSettings.from_env("charge_balance", hold, "--charge-pending-hold")
    except ValueError as exc:
        return fail("charge", str(exc), 2)
    if not args.execute:
        echo("dry run: nothing will be charged (pass --execute to charge)")
    return run_actions(
        "charge",
        lambda client, conn, shop: actions.charge(
            client, conn, args.orders, offer_id=args.offer_id, dry_run=not args.execute,
            limit=args.limit, settings=settings, progress=args.progress, shop=shop,
        ),
        shop=args.shop,
        needs_key=args.execute,
        echo=echo,
    )  # fmt: skip
