"""The core's plain table facts as Dagster's standard table metadata (`dagster/*` keys).

`preorders.sync_report.table_metadata` gives each table's figures plus `row_count`, `table_name`
and `columns` (DuckDB's catalog, never a row's values); the sync assets and the CLI's recording
both turn them into `dagster/row_count`, `dagster/table_name` and a `dagster/column_schema`
`TableSchema` here, so the UI shows Rows, the table's name and its columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg


def materialization_metadata(figures: Mapping[str, Any]) -> dict[str, Any]:
    """The figures, their table facts moved under Dagster's own metadata keys."""
    meta = dict(figures)
    if (rows := meta.pop("row_count", None)) is not None:
        meta["dagster/row_count"] = int(rows)
    if (name := meta.pop("table_name", None)) is not None:
        meta["dagster/table_name"] = str(name)
    if (columns := meta.pop("columns", None)) is not None:
        meta["dagster/column_schema"] = column_schema(columns)
    return meta


def column_schema(columns: Sequence[Mapping[str, Any]]) -> dg.TableSchema:
    """A `TableSchema` of the catalog's columns: type, nullability, the primary key."""
    key = [str(c["name"]) for c in columns if c.get("in_key")]
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=str(c["name"]),
                type=str(c["type"]),
                constraints=dg.TableColumnConstraints(
                    nullable=bool(c["nullable"]), unique=key == [c["name"]]
                ),
            )
            for c in columns
        ],
        constraints=dg.TableConstraints(other=[f"primary key ({', '.join(key)})"] if key else []),
    )
