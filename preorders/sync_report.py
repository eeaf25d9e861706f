"""What one stream's sync did (`SyncReport`), and the lines and metadata made of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse.tables import TableShape

TABLES = {"offers": ("offers", "offer_variants"), "orders": ("orders", "order_line_items")}


@dataclass
class SyncReport:
    """What one stream's sync did, for run metadata and the CLI summary."""

    stream: str
    mode: str
    run_id: str
    walks: int = 0
    pages: int = 0
    singles: int = 0
    records: int = 0
    complete: bool = True
    drift: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    duration_s: float = 0.0
    total_count: int | None = None
    planned_requests: int | None = None
    gone: int = 0  # open orders answering 404 on a single read
    meta_inconsistent: bool = False  # a page's total_pages and total_count disagreed
    stopped_early: bool = False  # a walk ended on empty pages the API still counted
    empty_pages: int = 0  # pages the API's count says hold records that held none

    @property
    def rejected(self) -> int:
        """Records the warehouse could not hold (in `_rejects`); known once the load finished."""
        return int(self.counts.get("rejected", 0))

    @property
    def doubt(self) -> str | None:
        """Why the API's own figures cannot be trusted this run (None: nothing seen amiss)."""
        if self.stopped_early:
            return "the walk stopped on a run of empty pages the API still counted"
        if self.empty_pages:
            return f"{self.empty_pages} page(s) the API counted records on came back empty"
        if self.meta_inconsistent:
            return "the API's total_pages disagreed with its total_count"
        return None

    def as_metadata(self) -> dict[str, Any]:
        """A flat dict of the figures, for Dagster metadata and sync_runs."""
        flat = {k: v for k, v in self.__dict__.items() if k != "counts"}
        return {**flat, **self.counts}


def incomplete_reason(report: SyncReport) -> str | None:
    """Why one stream's sync cannot be trusted as complete (None: it can)."""
    rejected, read = report.counts.get("rejected", 0), report.records
    if read > 0 and rejected >= read:
        return (
            f"every one of the {read:,} {report.stream} read was rejected (see _rejects); "
            "nothing was loaded"
        )
    if report.complete:
        return None
    kept = "; the high-water mark was not moved" if report.stream == "orders" else ""
    if report.total_count is None:  # the walk could not prove what it saw is everything
        return (
            f"sync incomplete: the {report.stream} walk could not prove it saw every record the "
            f"API counts ({read:,} records read){kept}"
        )
    of = f"{report.total_count:,} {report.stream}"
    return f"sync incomplete: saw {read:,} of {of} the API counts{kept}"


def report_metadata(report: SyncReport) -> dict[str, Any]:
    """The figures of one stream's sync, named for the Dagster UI (counts only, no PII)."""
    counts = report.counts
    return {
        "mode": report.mode,
        "rows_inserted": counts.get("inserted", 0),
        "rows_updated": counts.get("updated", 0),
        "rows_unchanged": counts.get("unchanged", 0),
        "rows_rejected": counts.get("rejected", 0),
        "rows_missing": counts.get("missing", 0),
        "state_changes": counts.get("state_changes", 0),
        "records_read": report.records,
        "walks": report.walks,
        "pages": report.pages,
        "single_reads": report.singles,
        "requests": report.requests,
        "retries": report.retries,
        "rate_limited_429": report.rate_limited,
        "drift": report.drift,
        "complete": report.complete,
        "api_total_count": report.total_count,
        "duration_s": float(report.duration_s),
    }


def table_metadata(
    reports: Iterable[SyncReport],
    rows: Mapping[str, int],
    shapes: Mapping[str, TableShape] | None = None,
) -> dict[str, dict[str, Any]]:
    """Per table the reports' streams wrote (`TABLES`): the stream's figures and the table's."""
    return {
        table: {**report_metadata(report), **table_facts(table, rows, shapes or {})}
        for report in reports
        for table in TABLES[report.stream]
    }


def table_facts(
    table: str, rows: Mapping[str, int], shapes: Mapping[str, TableShape]
) -> dict[str, Any]:
    """The table's row count, qualified name and columns (catalog facts only, never a value)."""
    facts: dict[str, Any] = {}
    if rows.get(table) is not None:
        facts["row_count"] = int(rows[table])
    if (shape := shapes.get(table)) is not None:
        facts["table_name"] = shape.name
        facts["columns"] = [asdict(column) for column in shape.columns]
    return facts


def summary_line(report: SyncReport) -> str:
    """One human line per stream: what was read, what changed, what it cost."""
    c = report.counts
    return (
        f"{report.stream:<7} {report.mode:<11} {report.records:>7} read in {report.pages} pages"
        f" + {report.singles} single reads | +{c.get('inserted', 0)} new,"
        f" {c.get('updated', 0)} updated, {c.get('unchanged', 0)} unchanged,"
        f" {c.get('rejected', 0)} rejected, {c.get('missing', 0)} missing |"
        f" {report.requests} requests, {report.retries} retries, {report.rate_limited} x 429"
        f"{', drift' if report.drift else ''}{'' if report.complete else ', INCOMPLETE'}"
        f" | {report.duration_s:.1f}s"
    )
