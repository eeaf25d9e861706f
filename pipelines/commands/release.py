"""`preorders release`: release held, fully paid orders exactly once (ledger: order_actions)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pipelines import actions

Echo = Callable[[str], None]


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
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N orders")
    p.add_argument(
        "--order", dest="orders", type=int, nargs="+", action="extend", metavar="ID",
        help="only these Shopify order ids",
    )  # fmt: skip
    p.add_argument("--force", action="store_true", help="skip the balance check (needs --reason)")
    p.add_argument("--reason", default=None, metavar="TEXT", help="why force is used (recorded)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, echo: Echo = print) -> int:
    """Release, printing a line per order; 1 when an order failed or its outcome is unknown."""
    if args.force and not (args.reason or "").strip():
        return fail("release", "--force needs --reason TEXT (it is recorded); nothing was sent", 2)
    if args.reason and not args.force:
        return fail("release", "--reason only goes with --force; nothing was sent", 2)
    if args.limit is not None and args.limit < 1:
        return fail("release", "--limit must be at least 1", 2)
    return execute(
        "release",
        lambda client, conn: actions.release_orders(
            client, conn, args.orders, dry_run=args.dry_run, limit=args.limit,
            force=args.force, reason=args.reason,
        ),
        needs_key=not args.dry_run,
        echo=echo,
    )  # fmt: skip


def execute(
    name: str, act: Callable[[Any, Any], list[actions.Outcome]], *, needs_key: bool, echo: Echo
) -> int:
    """Open the client and warehouse, run `act`, print its outcomes and a summary line."""
    from stoq import errors  # imported late: `preorders --help` stays fast

    key = os.environ.get("STOQ_API_KEY", "").strip()
    if needs_key and not key:
        return fail(name, "STOQ_API_KEY is not set; export your shop's API key", 2)
    try:
        with _client(key) as client, _warehouse() as conn:
            outcomes = act(client, conn)
    except errors.StoqError as exc:
        return fail(name, str(exc))
    except actions.ForceWithoutReason as exc:
        return fail(name, str(exc))
    except Exception as exc:  # the DuckDB lock, a bad path: one line, not a traceback
        if type(exc).__module__.startswith(("duckdb", "_duckdb")):
            return fail(name, f"warehouse unavailable: {exc}")
        raise
    for outcome in outcomes:
        echo(outcome.line())
    echo(summary(outcomes))
    return 1 if any(o.status in ("failed", "unknown") for o in outcomes) else 0


def summary(outcomes: list[actions.Outcome]) -> str:
    """`3 succeeded, 1 rejected` style, or `nothing to do`."""
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to do"


def fail(name: str, message: str, code: int = 1) -> int:
    """Print one line to stderr and return the exit code (2: usage, 1: runtime)."""
    print(f"preorders {name}: {message}", file=sys.stderr)
    return code


@contextmanager
def _client(key: str) -> Iterator[Any]:
    if not key:
        yield None  # dry run without a key: nothing is sent
        return
    from pipelines.resources import StoqResource

    with StoqResource(api_key=key).client() as client:
        yield client


@contextmanager
def _warehouse() -> Iterator[Any]:
    from pipelines.resources import WarehouseResource

    with WarehouseResource().get_connection() as conn:
        yield conn
