"""What an operator can do next, with how many orders it concerns and the command that does it.

    steps = next_steps(conn)                # reads only (the plans' temporary frames aside)
    print("\n".join(lines(steps)))          # "425 releasable: `preorders release`" ...
    next_steps(conn, "eu", named=True)      # eu's, each command with `--shop eu`

The counts are what the commands would handle now: the releasable orders `preorders release`
would send (the ledger's open rows and retries in their backoff left out), the orders awaiting
their balance `preorders charge` would charge, and the ledger rows still unsettled.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from preorders.actions.plans import OPEN, plan_charges, plan_release
from warehouse import status as queries
from warehouse.migrate import DEFAULT_SHOP

NOTHING = "Nothing to release or charge now; the next sync may bring more."


@dataclass(frozen=True)
class NextStep:
    """`count` orders (or rows) that `command` handles, and a note on how; `key` names it."""

    key: str
    count: int
    what: str
    command: str
    note: str = ""

    def line(self) -> str:
        """`425 releasable: `preorders release``, plus the note in parentheses."""
        note = f" ({self.note})" if self.note else ""
        return f"{self.count:,} {self.what}: `{self.command}`{note}"


def next_steps(
    conn: duckdb.DuckDBPyConnection, shop: str = DEFAULT_SHOP, *, named: bool = False
) -> tuple[NextStep, ...]:
    """Every step of `shop`, with how many orders (or ledger rows) it would handle now (0:
    nothing); `named`: each command names the shop (`preorders release --shop eu`)."""
    unsettled = sum(n for _a, _s, n, _t in queries.open_ledger_rows(conn, OPEN, shop))
    suffix = f" --shop {shop}" if named else ""
    return (
        NextStep(
            "to_release",
            len(plan_release(conn, shop=shop)),
            "releasable",
            "preorders release" + suffix,
        ),
        NextStep(
            "to_charge",
            len(plan_charges(conn, shop=shop)),
            "awaiting balance",
            "preorders charge" + suffix,
            "a dry run that lists them; --execute charges",
        ),
        NextStep("unsettled", unsettled, "unsettled in the ledger", "preorders actions" + suffix),
    )


def lines(steps: tuple[NextStep, ...]) -> list[str]:
    """One line per step with something to do, or the one line saying nothing waits."""
    return [step.line() for step in steps if step.count] or [NOTHING]
