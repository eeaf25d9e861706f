"""The client's calls against STOQ's /help manifest: one verdict, read by `preorders check` and
the `stoq_manifest_matches_client` asset check alike (Dagster-free, no DuckDB).

    contract = contract_of(client.help(prefix=PREFIX))
    print(contract.line())      # "contract: matches the client (20 actions)"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stoq.contract import CALLS, PREFIX, Drift, compare, listed_actions

__all__ = ["PREFIX", "Contract", "contract_of"]

COLUMNS = ("action", "call", "kind", "detail", "breaking")
CELL = 200  # a manifest is the server's text: a cell never carries a whole body


@dataclass(frozen=True)
class Contract:
    """How many actions the manifest lists and the client calls, and every difference."""

    listed: int
    calls: int
    drift: tuple[Drift, ...]

    @property
    def breaking(self) -> list[Drift]:
        """The differences that make a call fail."""
        return [d for d in self.drift if d.breaking]

    @property
    def ok(self) -> bool:
        """True when no call would fail (non-breaking differences allowed)."""
        return not self.breaking

    def line(self) -> str:
        """The one line `preorders check` prints."""
        breaking = self.breaking
        if breaking:
            more = f" (and {len(breaking) - 1} more)" if len(breaking) > 1 else ""
            counted = _count(len(breaking), "breaking difference")
            return f"contract: {counted}: {breaking[0].line()}{more}"
        line = f"contract: matches the client ({self.calls} actions)"
        if self.drift:
            line += (
                f"; {_count(len(self.drift), 'non-breaking difference')}: {self.drift[0].line()}"
            )
        return line

    def rows(self) -> list[dict[str, Any]]:
        """Every difference as plain values, breaking ones first."""
        ordered = sorted(self.drift, key=lambda d: not d.breaking)
        return [d.as_dict() for d in ordered]

    def markdown(self) -> str:
        """The differences as a markdown table (for metadata); "no drift" when there are none."""
        if not self.drift:
            return f"no drift: the manifest matches all {self.calls} actions the client calls"
        head = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        body = ["| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |" for row in self.rows()]
        return "\n".join(head + body)


def contract_of(manifest: Mapping[str, Any]) -> Contract:
    """Compare the client's calls with a manifest (MalformedResponse when it lists no actions)."""
    drift = tuple(compare(manifest))
    return Contract(len(listed_actions(manifest)), len(CALLS), drift)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' * (n != 1)}"


def _cell(value: Any) -> str:
    """A table cell: one line, pipes escaped, at most CELL characters (a server's text)."""
    text = " ".join(str(value).split())
    text = text if len(text) <= CELL else text[: CELL - 1] + "…"
    return text.replace("|", "\\|")
