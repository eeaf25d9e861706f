"""`preorders release`: release held, fully paid orders exactly once (ledger: order_actions)."""

from __future__ import annotations

import argparse

from pipelines.cli_support import Echo, add_selection_args, add_shop_arg, fail, run_actions


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `release` subcommand."""
    p = subparsers.add_parser(
        "release",
        help="Release held, fully paid orders (exactly once; see order_actions).",
        description="Release the orders in releasable_orders (or the ones named) that the "
        "ledger has not handled yet. Each order is re-read first; force is sent only with "
        "--force --reason.",
    )
    p.add_argument("--dry-run", action="store_true", help="plan only: write nothing to STOQ")
    add_selection_args(p)
    add_shop_arg(p)
    p.add_argument("--force", action="store_true", help="skip the balance check (needs --reason)")
    p.add_argument("--reason", default=None, metavar="TEXT", help="why force is used (recorded)")
    p.add_argument(
        "--unknown-submission-hold", type=float, default=None, metavar="SECONDS",
        help="how long a bulk submission whose answer was lost keeps its orders open before "
        "they may be judged not applied (default: $PREORDERS_UNKNOWN_SUBMISSION_HOLD_S, else 3600)",
    )  # fmt: skip
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, echo: Echo = print) -> int:
    """Release, printing a line per order; 1 when an order failed or its outcome is unknown."""
    from preorders import actions  # late: pandas and duckdb only for the commands that use them

    try:  # the core's rule, checked before the key is asked for; worded for the flags
        actions.force_reason(args.force, args.reason)
    except actions.ForceWithoutReason:
        return fail("release", "--force needs --reason TEXT (it is recorded); nothing was sent", 2)
    except actions.ReasonWithoutForce:
        return fail("release", "--reason only goes with --force; nothing was sent", 2)
    if args.limit is not None and args.limit < 1:
        return fail("release", "--limit must be at least 1", 2)
    hold = args.unknown_submission_hold
    try:  # the flag wins over the environment; a bad value of either is a usage error
        settings = actions.ActionSettings.from_env("release", hold, "--unknown-submission-hold")
    except ValueError as exc:
        return fail("release", str(exc), 2)
    return run_actions(
        "release",
        lambda client, conn, shop: actions.release(
            client, conn, args.orders, dry_run=args.dry_run, limit=args.limit,
            force=args.force, reason=args.reason, settings=settings, progress=args.progress,
            shop=shop,
        ),
        shop=args.shop,
        needs_key=not args.dry_run,
        echo=echo,
    )  # fmt: skip
