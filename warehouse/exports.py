"""Finished report exports as DuckDB tables `export_<name>`, apart from the dashboard views.

Exports once went to `report_<name>`, the namespace of the dashboard views (`report_key_figures`
...), so a report named like a view could not be loaded. `rename_legacy_tables` moves such old
export TABLES (never a view) to their new name when the schema is applied.

An export table holds every shop's rows, each with its `shop` (first column): loading shop A's
CSV replaces A's rows only, so two shops' exports of one report never overwrite each other. A
table from before shops gets the column on its next load, its rows becoming shop `default`'s.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse import sql
from warehouse.migrate import DEFAULT_SHOP

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
    shop: str = DEFAULT_SHOP,
) -> int:
    """Replace `shop`'s rows of `export_<report>` with the CSV's, plus `shop` and `_loaded_at`,
    in one transaction (other shops' rows stay); returns `shop`'s row count."""
    table = export_table(report)  # identifiers cannot be bound: it passed a strict pattern
    conn.begin()
    try:
        conn.execute(sql.query("export_load"), {"path": str(csv_path)})
        staged = [str(r[0]) for r in conn.execute(sql.query("export_staged_columns")).fetchall()]
        if "shop" in staged:
            raise ValueError(f"report {report!r} has a column named shop, which is ours")
        columns = _columns(conn, table)
        if columns and "shop" not in columns:
            conn.execute(sql.query("export_add_shop").format(table=table))
        params = {"shop": shop, "loaded_at": loaded_at or datetime.now(UTC)}
        others = _counts(conn, table, shop)[1] if columns else 0
        name = "export_merge" if others else "export_replace"
        conn.execute(sql.query(name).format(table=table), params)
        conn.execute(sql.query("export_unstage"))
        mine = _counts(conn, table, shop)[0]
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return mine


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = conn.execute(sql.query("export_columns"), {"table": table}).fetchall()
    return [str(r[0]) for r in rows]


def _counts(conn: duckdb.DuckDBPyConnection, table: str, shop: str) -> tuple[int, int]:
    """(`shop`'s rows, other shops' rows) of an export table that has the `shop` column."""
    row = conn.execute(sql.query("export_counts").format(table=table), {"shop": shop}).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


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
