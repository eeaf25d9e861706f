"""Render a `warehouse.dashboards.Dashboard` into PNG charts and one self-contained HTML page.

No Dagster and no pyplot state: each chart is a `matplotlib.figure.Figure` drawn by the Agg
canvas, so rendering works offline, headless and from any thread. The page embeds every chart as
a base64 `data:` URI and carries its own CSS: it opens from disk, e-mail or CI artifacts with
no network. The `backlog_report` asset and `preorders report` both call `write_backlog_report`.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from warehouse import dashboards
from warehouse.dashboards import STATE_ORDER, Dashboard

PAGE = "backlog.html"
COLORS = {
    "placed": "#9aa5b1",
    "awaiting_balance": "#f0a202",
    "balance_collected": "#2a9d8f",
    "released": "#264653",
    "fulfilled": "#8ab17d",
    "cancelled": "#e76f51",
    "refunded": "#b5838d",
    "succeeded": "#2a9d8f",
    "rejected": "#e76f51",
    "failed": "#9b2226",
    "unknown": "#f0a202",
    "sent": "#577590",
    "planned": "#9aa5b1",
    "skipped": "#cdb4db",
    "dry run": "#d3d3d3",
}
AGE_BUCKETS = ["0-7d", "8-30d", "31-90d", "over 90d"]  # as report_held_order_age labels them
FIGURES = (
    ("open_orders", "Open orders"),
    ("releasable_orders", "Releasable now"),
    ("outstanding_balance", "Outstanding balance"),
    ("deposit_collected", "Deposits collected"),
    ("awaiting_balance", "Awaiting balance"),
    ("oldest_open_age_days", "Oldest open order (days)"),
)


@dataclass(frozen=True)
class ReportFiles:
    """What `write_report` wrote: the HTML page and one PNG per chart (name -> path)."""

    html: Path
    images: dict[str, Path]


def report_dir(duckdb_path: str) -> Path:
    """Where the report of a warehouse file goes: `<its folder>/report`."""
    if duckdb_path == ":memory:":
        return Path("report")
    return Path(duckdb_path).resolve().parent / "report"


def write_backlog_report(
    conn: duckdb.DuckDBPyConnection, db_path: str, out: Path | None = None
) -> tuple[Dashboard, ReportFiles]:
    """Read the dashboard views of `conn` and write the report of the warehouse file `db_path`
    into `out` (default: `report/` next to that file); the one path of the asset and the CLI."""
    data = dashboards.load(conn)
    return data, write_report(data, out or report_dir(db_path), source=db_path)


def write_report(data: Dashboard, out_dir: Path, *, source: str = "") -> ReportFiles:
    """Write every chart as `<out_dir>/<name>.png` and the page as `<out_dir>/backlog.html`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    images: dict[str, Path] = {}
    pngs: dict[str, bytes] = {}
    for name, (title, draw) in CHARTS.items():
        fig = Figure(figsize=(9, 4.2), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        frame = getattr(data, name)
        if frame.empty:
            ax.text(0.5, 0.5, "No data yet", ha="center", va="center", fontsize=14, color="#666")
            ax.set_axis_off()
        else:
            draw(ax, frame)
        ax.set_title(title, loc="left", fontsize=12)
        path = out_dir / f"{name}.png"
        fig.savefig(path, format="png")
        images[name] = path
        pngs[name] = path.read_bytes()
    page = out_dir / PAGE
    page.write_text(render_html(data, pngs, source=source), encoding="utf-8")
    return ReportFiles(page, images)


def _stacked(ax: Axes, wide: pd.DataFrame, *, horizontal: bool = False) -> None:
    """Stack the columns (states or statuses) of a wide frame as bars."""
    kind: Literal["bar", "barh"] = "barh" if horizontal else "bar"
    colors = [COLORS.get(str(c), "#888888") for c in wide.columns]
    wide.plot(kind=kind, stacked=True, ax=ax, color=colors, width=0.75, legend=True)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(axis="x" if horizontal else "y", alpha=0.3)


def _states_wide(frame: pd.DataFrame, index: str, value: str) -> pd.DataFrame:
    wide = frame.pivot_table(index=index, columns="state", values=value, aggfunc="sum")
    wide = wide.fillna(0)
    return wide[[s for s in STATE_ORDER if s in wide.columns] + _others(wide.columns)]


def _others(columns: Any) -> list[str]:
    return sorted(str(c) for c in columns if c not in STATE_ORDER)


def draw_backlog_by_offer(ax: Axes, frame: pd.DataFrame) -> None:
    _stacked(ax, _states_wide(frame, "offer_name", "orders"), horizontal=True)
    ax.set_xlabel("open orders")
    ax.set_ylabel("")


def draw_backlog_over_time(ax: Axes, frame: pd.DataFrame) -> None:
    open_rows = frame[frame["open_state"]]
    wide = _states_wide(open_rows, "day", "orders") if not open_rows.empty else pd.DataFrame()
    if wide.empty:
        ax.text(0.5, 0.5, "No open orders in the history", ha="center", va="center")
        return
    if len(wide) < 3:  # an area needs a few days; until then, one stacked bar per day
        wide.index = [pd.Timestamp(d).strftime("%Y-%m-%d") for d in wide.index]
        _stacked(ax, wide)
        ax.tick_params(axis="x", rotation=0)
    else:
        colors = [COLORS.get(str(c), "#888888") for c in wide.columns]
        ax.stackplot(
            wide.index, *(wide[c] for c in wide.columns), labels=wide.columns, colors=colors
        )
        ax.legend(fontsize=8, frameon=False, loc="upper left")
        ax.grid(axis="y", alpha=0.3)
        ax.figure.autofmt_xdate()
    ax.set_ylabel("orders at end of day (UTC)")


def draw_held_order_age(ax: Axes, frame: pd.DataFrame) -> None:
    wide = _states_wide(frame, "age_bucket", "orders")
    _stacked(ax, wide.reindex(AGE_BUCKETS, fill_value=0))
    ax.set_xlabel("days since created")
    ax.set_ylabel("open orders")
    ax.tick_params(axis="x", rotation=0)


def draw_releasable_queue(ax: Axes, frame: pd.DataFrame) -> None:
    ages = frame["age_days"].astype(float)
    ax.hist(ages, bins=min(20, max(1, ages.nunique())), color=COLORS["balance_collected"])
    ax.set_xlabel("days since created")
    ax.set_ylabel("releasable orders")
    ax.grid(axis="y", alpha=0.3)


def draw_actions_per_day(ax: Axes, frame: pd.DataFrame) -> None:
    outcome = frame["status"].where(~frame["dry_run"].astype(bool), "dry run")
    wide = frame.assign(outcome=outcome).pivot_table(
        index="day", columns="outcome", values="actions", aggfunc="sum"
    )
    wide.index = [pd.Timestamp(d).strftime("%Y-%m-%d") for d in wide.index]
    _stacked(ax, wide.fillna(0))
    ax.set_ylabel("actions")
    ax.tick_params(axis="x", rotation=30)


#: Dashboard attribute -> (chart title, drawing function); also the PNG file names.
CHARTS: dict[str, tuple[str, Callable[[Axes, pd.DataFrame], None]]] = {
    "backlog_by_offer_state": ("Open backlog by offer and state", draw_backlog_by_offer),
    "backlog_over_time": (
        "Backlog over time (orders per state, end of day)",
        draw_backlog_over_time,
    ),
    "held_order_age": ("Age of open orders", draw_held_order_age),
    "releasable_queue": ("Releasable queue by age", draw_releasable_queue),
    "actions_per_day": ("Actions per day by outcome (order_actions ledger)", draw_actions_per_day),
}


def format_figure(name: str, value: Any) -> str:
    """A key figure as shown on the page and in markdown."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if name in ("outstanding_balance", "deposit_collected"):
        return f"{float(value):,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown_table(frame: pd.DataFrame, limit: int = 30) -> str:
    """A GitHub-flavoured markdown table of the first `limit` rows (no tabulate needed)."""
    if frame.empty:
        return "_no rows_"
    shown = frame.head(limit)
    cells = [[_cell(v) for v in row] for row in shown.itertuples(index=False)]
    lines = ["| " + " | ".join(map(str, shown.columns)) + " |"]
    lines.append("|" + "---|" * len(shown.columns))
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    if len(frame) > limit:
        lines.append(f"\n_{len(frame) - limit} more rows_")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value).replace("|", "\\|")


def render_html(data: Dashboard, pngs: dict[str, bytes], *, source: str = "") -> str:
    """The self-contained page: key figures, embedded charts and the two detail tables."""
    esc = html.escape
    figures = data.key_figures
    cards = "".join(
        f'<div class="card"><div class="v">{esc(format_figure(k, figures.get(k)))}</div>'
        f'<div class="k">{esc(label)}</div></div>'
        for k, label in FIGURES
    )
    charts = "".join(
        f'<figure><img alt="{esc(title)}" src="data:image/png;base64,'
        f'{base64.b64encode(pngs[name]).decode("ascii")}"></figure>'
        for name, (title, _) in CHARTS.items()
    )
    queue = data.releasable_queue.head(25)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>STOQ preorder backlog</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1000px; }}
.cards {{ display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0 2rem; }}
.card {{ border: 1px solid #ddd; border-radius: 6px; padding: .75rem 1rem; min-width: 130px; }}
.card .v {{ font-size: 1.5rem; font-weight: 600; }}
.card .k {{ color: #666; font-size: .85rem; }}
figure {{ margin: 0 0 1.5rem; }} img {{ max-width: 100%; }}
table {{ border-collapse: collapse; font-size: .85rem; margin-bottom: 2rem; }}
th, td {{ border-bottom: 1px solid #eee; padding: .25rem .6rem; text-align: right; }}
.meta {{ color: #666; font-size: .85rem; }}
</style></head><body>
<h1>STOQ preorder backlog</h1>
<p class="meta">Generated {esc(generated)}{" from " + esc(source) if source else ""};
last sync {esc(format_figure("", figures.get("last_synced_at")))}.</p>
<div class="cards">{cards}</div>
{charts}
<h2>Backlog by offer and state</h2>
{data.backlog_by_offer_state.to_html(index=False, float_format="{:,.2f}".format, border=0)}
<h2>Releasable queue (oldest {len(queue)} of {len(data.releasable_queue)})</h2>
{queue.to_html(index=False, float_format="{:,.2f}".format, border=0)}
</body></html>
"""
