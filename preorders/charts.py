"""The backlog report's charts: one `matplotlib` Figure per chart, drawn by the Agg canvas.

No Dagster and no pyplot state, so drawing works offline, headless and from any thread. Charts
count orders and actions, never money (amounts are per currency: see `preorders.tables`).
Dry-run plans are drawn apart from the actions that went out: they never send anything.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image

from warehouse.dashboards import STATE_ORDER, Dashboard

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
    "release": "#9aa5b1",
    "charge_balance": "#cdb4db",
}
AGE_BUCKETS = ["0-7d", "8-30d", "31-90d", "over 90d"]  # as report_held_order_age labels them
PALETTE = 64  # colours per chart PNG


@dataclass(frozen=True)
class Chart:
    """One chart: its title, the rows it draws (from the dashboard) and how it draws them."""

    title: str
    rows: Callable[[Dashboard], pd.DataFrame]
    draw: Callable[[Axes, pd.DataFrame], None]
    empty: str = "No data yet"


def png(chart: Chart, data: Dashboard) -> bytes:
    """The chart drawn on `data`, as PNG bytes (a placeholder when it has no rows)."""
    fig = Figure(figsize=(9, 4.2), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    frame = chart.rows(data)
    if frame.empty:
        ax.text(0.5, 0.5, chart.empty, ha="center", va="center", fontsize=14, color="#666")
        ax.set_axis_off()
    else:
        chart.draw(ax, frame)
    ax.set_title(chart.title, loc="left", fontsize=12)
    drawn = io.BytesIO()
    fig.savefig(drawn, format="png")
    # A 64-colour palette keeps the look and a third of the bytes (the page and the Dagster
    # metadata embed every chart).
    out = io.BytesIO()
    Image.open(drawn).convert("RGB").quantize(colors=PALETTE).save(out, "PNG", optimize=True)
    return out.getvalue()


def _stacked(ax: Axes, wide: pd.DataFrame, *, horizontal: bool = False) -> None:
    """Stack the columns (states or statuses) of a wide frame as bars."""
    kind: Literal["bar", "barh"] = "barh" if horizontal else "bar"
    colors = [COLORS.get(str(c), "#888888") for c in wide.columns]
    wide.plot(kind=kind, stacked=True, ax=ax, color=colors, width=0.75, legend=True)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(axis="x" if horizontal else "y", alpha=0.3)


def _states_wide(frame: pd.DataFrame, index: str, value: str) -> pd.DataFrame:
    """Sum `value` per (`index`, state), currencies together: counts, never money."""
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


def actions_of(frame: pd.DataFrame, *, dry_run: bool) -> pd.DataFrame:
    """The rows of `report_actions_per_day` that are (or are not) dry-run plans."""
    if frame.empty:
        return frame
    return frame[frame["dry_run"].astype(bool) == dry_run]


def per_day(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Ledger rows per day (rows, as `YYYY-MM-DD`) and value of `column` (columns)."""
    wide = frame.pivot_table(index="day", columns=column, values="actions", aggfunc="sum")
    wide.index = [pd.Timestamp(d).strftime("%Y-%m-%d") for d in wide.index]
    return wide.fillna(0)


def draw_actions_per_day(ax: Axes, frame: pd.DataFrame) -> None:
    _stacked(ax, per_day(frame, "status"))
    ax.set_ylabel("ledger rows (real runs)")
    ax.tick_params(axis="x", rotation=30)


def draw_dry_runs_per_day(ax: Axes, frame: pd.DataFrame) -> None:
    _stacked(ax, per_day(frame, "action"))
    ax.set_ylabel("dry-run ledger rows")
    ax.tick_params(axis="x", rotation=30)


#: Chart name -> Chart; the names are the PNG file names and the `chart_<name>` metadata keys.
CHARTS: dict[str, Chart] = {
    "backlog_by_offer_state": Chart(
        "Open backlog by offer and state", lambda d: d.backlog_by_offer_state, draw_backlog_by_offer
    ),
    "backlog_over_time": Chart(
        "Backlog over time (orders per state, end of day)",
        lambda d: d.backlog_over_time,
        draw_backlog_over_time,
    ),
    "held_order_age": Chart("Age of open orders", lambda d: d.held_order_age, draw_held_order_age),
    "releasable_queue": Chart(
        "Releasable queue by age", lambda d: d.releasable_queue, draw_releasable_queue
    ),
    "actions_per_day": Chart(
        "Actions per day by outcome (real runs; dry-run plans apart)",
        lambda d: actions_of(d.actions_per_day, dry_run=False),
        draw_actions_per_day,
        empty="No action sent yet",
    ),
    "dry_runs_per_day": Chart(
        "Dry-run plans per day (nothing was sent)",
        lambda d: actions_of(d.actions_per_day, dry_run=True),
        draw_dry_runs_per_day,
        empty="No dry run yet",
    ),
}
