"""The `backlog_report` asset: the dashboard views rendered to PNG charts and one HTML page.

Thin wiring: `preorders.render.write_backlog_report` reads the views and the next steps and
writes the page next to the DuckDB file; the body turns the result into metadata. It follows
every update of `orders` (the `sync_preorders` job materializes it, and the eager automation
condition catches a sync recorded from the CLI), so the UI never shows it behind its data.
Not partitioned: one report of every shop (the views group by shop), rendered again after each
shop's sync, so it always shows every shop's latest rows.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from assets.resources import POOL, WarehouseResource
from preorders import render, tables
from preorders.charts import CHARTS

#: Money metadata, one float per currency: `<column>_<currency>`, e.g. `outstanding_balance_USD`
#: (summed over shops: one currency adds up), and with several shops `<shop>/<column>_<currency>`.
MONEY = ("outstanding_balance", "deposit_collected", "releasable_total")


@dg.asset(
    deps=["orders"],
    group_name="reports",
    kinds={"duckdb", "html"},
    owners=["team:preorders"],
    tags={"source": "stoq"},
    automation_condition=dg.AutomationCondition.eager(),
    pool=POOL,  # it opens the DuckDB file for writing (the schema), as the sync assets do
)
def backlog_report(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Charts of the open preorder backlog (by offer and state, over time, by age), the releasable
    queue and the actions sent (dry-run plans apart), money per currency, and the next steps, in
    one self-contained HTML page next to the DuckDB file; the charts show here too."""
    with warehouse.get_connection() as conn:
        report = render.write_backlog_report(conn, warehouse.resolved_path())
    return dg.MaterializeResult(metadata=metadata(report))


def metadata(report: render.Report) -> dict[str, Any]:
    """Counts, money per currency, the page's path, the charts as images, the next steps."""
    data, files = report.data, report.files
    counts = {k: v for k, v in data.key_figures.items() if isinstance(v, int)}
    money: dict[str, float] = {}
    rows = data.money_by_currency.to_dict("records")
    shops = {row.get("shop") for row in rows}
    for row in rows:  # one row per shop and currency: a currency's total adds up its shops
        for column in MONEY:
            key = f"{column}_{_code(row['currency'])}"
            money[key] = money.get(key, 0.0) + float(row[column])
            if len(shops) > 1:  # and each shop's own figure beside it
                money[f"{row['shop']}/{key}"] = float(row[column])
    charts = {
        f"chart_{name}": dg.MetadataValue.md(
            f"![{chart.title}]({render.data_uri(files.png(name))})"
        )
        for name, chart in CHARTS.items()
    }
    return {
        **counts,
        **money,
        "money_by_currency": dg.MetadataValue.md(
            tables.markdown_table(tables.money_by_currency(data))
        ),
        "next_steps": dg.MetadataValue.md(render.next_steps_markdown(report.steps)),
        **{step.key: step.count for step in report.steps},
        "path": dg.MetadataValue.path(str(files.html)),
        "charts": len(files.images),
        **charts,
        "backlog_by_offer_state": dg.MetadataValue.md(
            tables.markdown_table(tables.backlog_by_offer_state(data))
        ),
    }


def _code(currency: Any) -> str:
    """The currency as a metadata key suffix (`none` when STOQ gave none)."""
    return currency if isinstance(currency, str) and currency else "none"
