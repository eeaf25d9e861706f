"""The `backlog_report` asset: the dashboard views rendered to PNG charts and one HTML page.

Thin wiring: `preorders.render.write_backlog_report` reads the views and writes the page next to
the DuckDB file; the body attaches the key figures, a markdown table and the page's path.
"""

from __future__ import annotations

import dagster as dg

from assets.resources import WarehouseResource
from preorders import render


@dg.asset(deps=["orders"], group_name="reports", kinds={"duckdb", "html"})
def backlog_report(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Charts of the open preorder backlog (by offer and state, over time, by age), the releasable
    queue and the release actions, in one self-contained HTML page next to the DuckDB file."""
    with warehouse.get_connection() as conn:
        data, files = render.write_backlog_report(conn, warehouse.resolved_path())
    figures = {k: v for k, v in data.key_figures.items() if isinstance(v, int | float)}
    return dg.MaterializeResult(
        metadata={
            **figures,
            "path": dg.MetadataValue.path(str(files.html)),
            "charts": len(files.images),
            "backlog_by_offer_state": dg.MetadataValue.md(
                render.markdown_table(data.backlog_by_offer_state)
            ),
        }
    )
