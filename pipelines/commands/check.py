"""`preorders check`: base URL, warehouse, key, an authenticated request, rate-limit headers,
the /help manifest, the client's calls against it (contract); one line each (preorders/check.py),
stopping at the first failure."""

from __future__ import annotations

import argparse

from pipelines.cli_support import add_shop_arg, fail, run_guarded, scrub, selected_shop


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `check` subcommand."""
    p = subparsers.add_parser(
        "check",
        help="Check the setup: base URL, warehouse, key, a request, rate limit, /help, contract.",
        description=(
            "One line per check, in order; stops at the first failure. The last compares every "
            "action the client calls with STOQ's /help manifest (breaking drift fails). "
            "Exit 0 when all pass, "
            "1 on a failed check, 2 on a usage error (an unusable base URL, no STOQ_API_KEY, "
            "a bad shops file, no --shop with several shops). The key's value is never printed."
        ),
    )
    add_shop_arg(p)
    p.set_defaults(handler=lambda a: run_guarded("check", lambda: run_check(a.shop)))


def run_check(shop_name: str | None = None) -> int:
    """Print each passing check's line as it comes (stdout) and a failing one as an error line
    (stderr); the exit code is the core's (0, 1, or 2 for a usage error)."""
    from preorders.check import checks, exit_code

    shop = selected_shop(shop_name)  # a bad shops file or choice: exit 2 before any check
    results = []
    for result in checks(shop.client, shop):
        results.append(result)
        if result.ok:
            print(scrub(result.line), flush=True)
        else:
            fail("check", result.line)
    return exit_code(results)
