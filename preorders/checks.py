"""Data-quality checks on the synced tables, as plain outcomes (the SQL is `warehouse/checks.py`).

    for outcome in evaluate_checks(conn, shop="eu"):  # the four table checks, after a sync
        print(outcome.name, outcome.passed)
    completeness(report)                         # `<stream>_sync_complete` of one stream's walk

Dagster wires each `CheckSpec` as an asset check (`assets/checks.py`) and records the outcomes of
a CLI sync as check evaluations (`pipelines/recording.py`); name, asset, severity and blocking
flag are decided here, once. Metadata holds counts and timestamps only, never a customer's data.
Freshness is no check: the sync assets carry a Dagster `FreshnessPolicy` (assets/sync_assets.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb

from preorders.sync_report import SyncReport, incomplete_reason
from warehouse import checks
from warehouse.migrate import DEFAULT_SHOP

Severity = Literal["ERROR", "WARN"]
#: A check's query on one shop's rows: (passed, metadata).
Run = Callable[[duckdb.DuckDBPyConnection, str], tuple[bool, dict[str, Any]]]


@dataclass(frozen=True)
class CheckOutcome:
    """One check's verdict on one asset (a table), with the figures behind it."""

    name: str
    asset: str
    passed: bool
    severity: Severity = "ERROR"
    metadata: dict[str, Any] = field(default_factory=dict)
    blocking: bool = False


@dataclass(frozen=True)
class CheckSpec:
    """A check on the warehouse: what it is called, what it guards, how it is evaluated."""

    name: str
    asset: str
    description: str
    run: Run
    blocking: bool = False
    severity: Severity = "ERROR"

    def evaluate(
        self, conn: duckdb.DuckDBPyConnection, *, shop: str = DEFAULT_SHOP
    ) -> CheckOutcome:
        """The check on `shop`'s rows only (one Dagster partition, one shop's sync)."""
        passed, metadata = self.run(conn, shop)
        return CheckOutcome(self.name, self.asset, passed, self.severity, metadata, self.blocking)


def _ids_unique(table: str) -> Run:
    def run(conn: duckdb.DuckDBPyConnection, shop: str) -> tuple[bool, dict[str, Any]]:
        duplicates = checks.duplicate_ids(conn, table, shop=shop)
        return duplicates == 0, {"duplicate_rows": duplicates}

    return run


def _states_documented(conn: duckdb.DuckDBPyConnection, shop: str) -> tuple[bool, dict[str, Any]]:
    unknown = checks.unknown_states(conn, shop=shop)
    return not unknown, {"unknown_states": unknown, "orders": sum(unknown.values())}


def _count_matches_api(conn: duckdb.DuckDBPyConnection, shop: str) -> tuple[bool, dict[str, Any]]:
    live, total = checks.live_orders_vs_api(conn, shop)
    return total is not None and live == total, {"live_orders": live, "api_total_count": total}


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "orders_ids_unique",
        "orders",
        "Every order id (the Shopify order id) appears once.",
        _ids_unique("orders"),
        blocking=True,
    ),
    CheckSpec(
        "offers_ids_unique",
        "offers",
        "Every offer UUID appears once.",
        _ids_unique("offers"),
        blocking=True,
    ),
    CheckSpec(
        "orders_states_documented",
        "orders",
        "Every order state is one SPEC §3.1 documents (placed ... refunded).",
        _states_documented,
    ),
    CheckSpec(
        "orders_count_matches_api",
        "orders",
        "Orders still listed by the API equal the total_count its last complete walk reported.",
        _count_matches_api,
        severity="WARN",  # orders arriving mid-walk can make this blink
    ),
)


def evaluate_checks(
    conn: duckdb.DuckDBPyConnection, *, shop: str = DEFAULT_SHOP
) -> list[CheckOutcome]:
    """Every table check of `CHECKS` on `shop`'s rows, in order."""
    return [spec.evaluate(conn, shop=shop) for spec in CHECKS]


def completeness_description(stream: str) -> str:
    """What `<stream>_sync_complete` promises (the UI description of the check)."""
    return (
        f"This run's {stream} walk provably saw every record the API counts, "
        "and not every record it read was rejected."
    )


def completeness(report: SyncReport) -> CheckOutcome:
    """The blocking `<stream>_sync_complete` outcome of one stream's walk (ERROR when it fails)."""
    reason = incomplete_reason(report)
    return CheckOutcome(
        f"{report.stream}_sync_complete",
        report.stream,
        passed=reason is None,
        severity="ERROR",
        metadata={
            "reason": reason or "complete",
            "records_read": report.records,
            "rows_rejected": report.counts.get("rejected", 0),
            "api_total_count": report.total_count,
        },
        blocking=True,
    )


def failed_sync(stream: str, reason: str) -> CheckOutcome:
    """`<stream>_sync_complete` for a walk that raised: failed, with the (scrubbed) reason."""
    return CheckOutcome(
        f"{stream}_sync_complete",
        stream,
        passed=False,
        severity="ERROR",
        metadata={"reason": reason},
        blocking=True,
    )
