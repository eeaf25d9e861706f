"""Finished report exports as DuckDB tables `export_<name>`, apart from the dashboard views.

Exports once went to `report_<name>`, the namespace of the dashboard views (`report_key_figures`
...), so a report named like a view could not be loaded. `rename_legacy_tables` moves such old
export TABLES (never a view) to their new name when the schema is applied.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse import sql

EXPORT_PREFIX = "export_"
LEGACY_PREFIX = "report_"

#: What a report name must look like before it may name a table (`export_<name>`). This pattern
#: replaces a fixed set: table names are never spliced from anything that fails it.
REPORT_NAME = re.compile(r"[a-z][a-z0-9_]{0,40}")

#: Report names we know of, for documentation and as an offline fallback only: the live catalog
#: (`GET /preorders/reports`) decides. SPEC §5.3 names the first five and infers `by_product`;
#: the last three are the sandbox's names for the reports the docs leave unnamed.
KNOWN_REPORTS = (
    "summary",
    "revenue",
    "by_date",
    "by_variant",
    "customers",
    "by_product",
    "by_offer",
    "by_state",
    "balance_aging",
)


def export_table(report: str) -> str:
    """`export_<report>`, once the name matches `^[a-z][a-z0-9_]{0,40}$`; ValueError otherwise."""
    # fullmatch, not `$`: `$` would let a trailing newline through.
    if not isinstance(report, str) or not REPORT_NAME.fullmatch(report):
        raise ValueError(
            f"unknown report {report!r}: a report name is lowercase letters, digits and _"
            f" (^{REPORT_NAME.pattern}$)"
        )
    return f"{EXPORT_PREFIX}{report}"


def load_report(
    conn: duckdb.DuckDBPyConnection,
    report: str,
    csv_path: str | Path,
    *,
    loaded_at: datetime | None = None,
) -> int:
    """Replace `export_<report>` with the CSV's rows plus `_loaded_at`, in one transaction."""
    table = export_table(report)
    statement = sql.query("export_load").format(table=table)
    params = {"path": str(csv_path), "loaded_at": loaded_at or datetime.now(UTC)}
    conn.begin()
    try:
        conn.execute(statement, params)
        # An identifier cannot be bound; `table` passed export_table's strict pattern.
        row = conn.execute(f"select count(*) from {table}").fetchone()
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return int(row[0]) if row else 0


def rename_legacy_tables(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Rename old export tables `report_<name>` to `export_<name>` (rows kept); returns the
    (old, new) pairs. Views are never touched; an old table whose new name is taken stays."""
    names = {str(r[0]) for r in conn.execute(sql.query("export_legacy_tables")).fetchall()}
    renamed: list[tuple[str, str]] = []
    for old in sorted(names):
        if not old.startswith(LEGACY_PREFIX):
            continue
        report = old.removeprefix(LEGACY_PREFIX)
        if not REPORT_NAME.fullmatch(report) or export_table(report) in names:
            continue  # not a name an export could have written, or already migrated
        new = export_table(report)
        # Identifiers cannot be bound: both names passed REPORT_NAME's strict pattern.
        conn.execute(sql.query("export_rename").format(old=old, new=new))
        renamed.append((old, new))
    return renamed
