"""Render the dashboard views into PNG charts and one self-contained HTML page, next steps last.

The page embeds every chart (`preorders.charts`) as a base64 `data:` URI and carries its own CSS:
it opens from disk, e-mail or CI artifacts with no network. Money is shown per currency, each
amount with its currency (`preorders.tables`); offer names come before offer ids. The
`backlog_report` asset and `preorders report` both call `write_backlog_report`. Every view
carries its shop; `shops=` gives the next steps of those shops (each command naming its shop)
and `only=` cuts the page to one shop (`for_shop`).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from preorders import tables
from preorders.charts import CHARTS, png
from preorders.next_steps import NextStep, lines, next_steps
from warehouse import dashboards
from warehouse.dashboards import Dashboard

__all__ = ["CHARTS", "PAGE", "Report", "ReportFiles", "write_backlog_report", "write_report"]

PAGE = "backlog.html"
#: Key figures shown as cards: (report_key_figures column, label).
FIGURES = (
    ("open_orders", "Open orders"),
    ("releasable_orders", "Releasable (fully paid, held)"),
    ("awaiting_balance", "Awaiting balance"),
    ("oldest_open_age_days", "Oldest open order (days)"),
)
#: Money shown as cards, one line per currency: (report_money_by_currency column, label).
MONEY = (
    ("outstanding_balance", "Outstanding balance"),
    ("deposit_collected", "Deposits collected"),
)


@dataclass(frozen=True)
class ReportFiles:
    """What `write_report` wrote: the HTML page and one PNG per chart (name -> path)."""

    html: Path
    images: dict[str, Path]

    def png(self, name: str) -> bytes:
        """The PNG bytes of one chart."""
        return self.images[name].read_bytes()


@dataclass(frozen=True)
class Report:
    """The dashboard read, the next steps worked out, and the files written."""

    data: Dashboard
    steps: tuple[NextStep, ...]
    files: ReportFiles


def report_dir(duckdb_path: str) -> Path:
    """Where the report of a warehouse file goes: `<its folder>/report`."""
    if duckdb_path == ":memory:":
        return Path("report")
    return Path(duckdb_path).resolve().parent / "report"


def write_backlog_report(
    conn: duckdb.DuckDBPyConnection,
    db_path: str,
    out: Path | None = None,
    *,
    shops: Sequence[str] | None = None,
    only: str | None = None,
) -> Report:
    """Read `conn`'s views and next steps; write the report to `out` (default: by `db_path`).

    `shops`: the next steps of each, every command naming its shop (default: the `default`
    shop's, as before shops); `only`: the page shows that one shop (see `for_shop`).
    """
    data = dashboards.load(conn)
    if only is not None:
        data = for_shop(data, only)
    if shops is None:
        steps = next_steps(conn)
    else:
        steps = tuple(step for shop in shops for step in next_steps(conn, shop, named=True))
    files = write_report(data, out or report_dir(db_path), source=db_path, steps=steps)
    return Report(data, steps, files)


#: Key figures summed per shop from `report_money_by_currency` (one currency per order).
SHOP_COUNTS = ("open_orders", "awaiting_balance", "releasable_orders")


def for_shop(data: Dashboard, shop: str) -> Dashboard:
    """`data` cut to one shop: every view with a shop column filtered, and the key figures the
    money view holds per shop re-summed from it; the others (an all-shops figure) left blank."""

    def cut(frame: Any) -> Any:
        if "shop" not in getattr(frame, "columns", ()):
            return frame
        return frame[frame["shop"] == shop].reset_index(drop=True)

    money = cut(data.money_by_currency)
    figures: dict[str, Any] = dict.fromkeys(data.key_figures)
    figures["last_synced_at"] = data.key_figures.get("last_synced_at")
    for name in SHOP_COUNTS:
        if name in getattr(money, "columns", ()):
            figures[name] = int(money[name].fillna(0).sum())
    return replace(
        data,
        key_figures=figures,
        money_by_currency=money,
        backlog_by_offer_state=cut(data.backlog_by_offer_state),
        backlog_over_time=cut(data.backlog_over_time),
        held_order_age=cut(data.held_order_age),
        releasable_queue=cut(data.releasable_queue),
        actions_per_day=cut(data.actions_per_day),
    )


def write_report(
    data: Dashboard,
    out_dir: Path,
    *,
    source: str = "",
    steps: tuple[NextStep, ...] | None = None,
) -> ReportFiles:
    """Write `<out_dir>/<chart>.png` and `<out_dir>/backlog.html`, ending with `steps` if given."""
    out_dir.mkdir(parents=True, exist_ok=True)
    images: dict[str, Path] = {}
    pngs: dict[str, bytes] = {}
    for name, chart in CHARTS.items():
        pngs[name] = png(chart, data)
        images[name] = out_dir / f"{name}.png"
        images[name].write_bytes(pngs[name])
    page = out_dir / PAGE
    page.write_text(render_html(data, pngs, source=source, steps=steps), encoding="utf-8")
    return ReportFiles(page, images)


def data_uri(png_bytes: bytes) -> str:
    """A PNG as a `data:` URI (the page and the Dagster markdown metadata embed charts so)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")


def format_figure(name: str, value: Any) -> str:
    """A key figure (a count or a time) as shown on the page and in markdown."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{value:,}" if isinstance(value, int) else str(value)


def next_steps_markdown(steps: tuple[NextStep, ...]) -> str:
    """The next steps as a markdown list (the Dagster metadata shows it so)."""
    return "\n".join(f"- {line}" for line in lines(steps))


def _cards(data: Dashboard) -> str:
    esc = html.escape
    cards = [
        f'<div class="card"><div class="v">{esc(format_figure(k, data.key_figures.get(k)))}'
        f'</div><div class="k">{esc(label)}</div></div>'
        for k, label in FIGURES
    ]
    for column, label in MONEY:
        amounts = "<br>".join(esc(a) for a in tables.money_lines(data, column)) or "-"
        cards.append(
            f'<div class="card money"><div class="v">{amounts}</div>'
            f'<div class="k">{esc(label)}</div></div>'
        )
    return "".join(cards)


def _table(frame: Any) -> str:
    if frame.empty:
        return "<p><em>no rows</em></p>"
    return tables.for_display(frame).to_html(index=False, border=0)


def _steps_html(steps: tuple[NextStep, ...] | None) -> str:
    if steps is None:
        return ""
    items = "".join(
        "<li>" + html.escape(line).replace("`", "<code>", 1).replace("`", "</code>", 1) + "</li>"
        for line in lines(steps)
    )
    return f'<h2 id="next-steps">Next steps</h2>\n<ul class="steps">{items}</ul>'


def render_html(
    data: Dashboard,
    pngs: dict[str, bytes],
    *,
    source: str = "",
    steps: tuple[NextStep, ...] | None = None,
) -> str:
    """The self-contained page: key figures, money per currency, charts, tables, next steps."""
    esc = html.escape
    charts = "".join(
        f'<figure><img alt="{esc(chart.title)}" src="{data_uri(pngs[name])}"></figure>'
        for name, chart in CHARTS.items()
    )
    queue = tables.releasable_queue(data)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    synced = format_figure("", data.key_figures.get("last_synced_at"))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>STOQ preorder backlog</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1000px; }}
.cards {{ display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0 2rem; }}
.card {{ border: 1px solid #ddd; border-radius: 6px; padding: .75rem 1rem; min-width: 130px; }}
.card .v {{ font-size: 1.5rem; font-weight: 600; }}
.card.money .v {{ font-size: 1.1rem; }}
.card .k {{ color: #666; font-size: .85rem; }}
figure {{ margin: 0 0 1.5rem; }} img {{ max-width: 100%; }}
table {{ border-collapse: collapse; font-size: .85rem; margin-bottom: 2rem; }}
th, td {{ border-bottom: 1px solid #eee; padding: .25rem .6rem; text-align: right; }}
.meta {{ color: #666; font-size: .85rem; }}
.steps {{ font-size: 1.05rem; line-height: 1.8; }}
</style></head><body>
<h1>STOQ preorder backlog</h1>
<p class="meta">Generated {esc(generated)}{" from " + esc(source) if source else ""};
last sync {esc(synced)}. Amounts are per currency, never added across currencies.</p>
<div class="cards">{_cards(data)}</div>
<h2>Money by currency</h2>
{_table(tables.money_by_currency(data))}
{charts}
<h2>Backlog by offer and state</h2>
{_table(tables.backlog_by_offer_state(data))}
<h2>Releasable queue (oldest {len(queue)} of {len(data.releasable_queue)})</h2>
{_table(queue)}
{_steps_html(steps)}
</body></html>
"""
