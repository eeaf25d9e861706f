"""The report's tables as shown: offer names before ids, each amount with its currency.

Amounts are never added across currencies: every money row of the dashboard views belongs to
one currency, and here each amount is printed with it (`USD 1,234.50`), the currency column
folded into the amounts. Used by the HTML page and the Dagster metadata alike. The `shop`
column leads each table when the warehouse holds several shops, and is left out when it holds one
(a single-shop report reads as it always did).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from warehouse.dashboards import Dashboard

NO_CURRENCY = "(no currency)"
QUEUE_ROWS = 25  # releasable orders listed on the page (the oldest)


def money(amount: Any, currency: Any) -> str:
    """An amount with its currency: `USD 1,234.50`; `-` for no amount."""
    if _missing(amount):
        return "-"
    if _missing(currency) or not str(currency):
        return f"{float(amount):,.2f} {NO_CURRENCY}"
    return f"{currency} {float(amount):,.2f}"


def with_currency(frame: pd.DataFrame, amounts: Sequence[str]) -> pd.DataFrame:
    """`frame` with each of `amounts` as text carrying the row's currency, `currency` dropped."""
    if frame.empty:
        return frame.drop(columns=["currency"], errors="ignore")
    out = frame.copy()
    for column in amounts:
        out[column] = [money(a, c) for a, c in zip(frame[column], frame["currency"], strict=True)]
    return out.drop(columns=["currency"])


def money_by_currency(data: Dashboard) -> pd.DataFrame:
    """One row per currency: the counts, then each amount with its currency."""
    frame = data.money_by_currency
    if frame.empty:
        return frame
    shown = with_currency(frame, ["outstanding_balance", "deposit_collected", "releasable_total"])
    shown.insert(0, "currency", [c if not _missing(c) else NO_CURRENCY for c in frame.currency])
    return by_shop(shown)


def backlog_by_offer_state(data: Dashboard) -> pd.DataFrame:
    """Backlog per (offer, state, currency), the offer's name first."""
    frame = with_currency(data.backlog_by_offer_state, ["deposit_collected", "outstanding"])
    return by_shop(_names_first(frame, ["offer_name", "offer_id"]))


def releasable_queue(data: Dashboard, limit: int = QUEUE_ROWS) -> pd.DataFrame:
    """The oldest `limit` releasable orders: order and offer names before their ids."""
    frame = data.releasable_queue.head(limit)
    if frame.empty:
        return frame
    frame = frame.assign(
        offer_names=[", ".join(map(str, names)) for names in frame["offer_names"]],
        offer_ids=[", ".join(map(str, ids)) for ids in frame["offer_ids"]],
    )
    frame = with_currency(frame, ["total_price"])
    columns = ["name", "offer_names", "created_at", "age_days", "days_since_paid"]
    columns += ["total_price", "order_id", "offer_ids", "customer_id"]
    return by_shop(frame[["shop", *columns]] if "shop" in frame else frame[columns])


def by_shop(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with `shop` first when it holds several shops, without it when it holds one."""
    if "shop" not in frame:
        return frame
    if frame["shop"].nunique() <= 1:
        return frame.drop(columns=["shop"])
    return _names_first(frame, ["shop"])


def money_lines(data: Dashboard, column: str) -> list[str]:
    """One `USD 1,234.50` per currency of `report_money_by_currency.<column>`."""
    frame = data.money_by_currency
    if frame.empty:
        return []
    return [money(a, c) for a, c in zip(frame[column], frame["currency"], strict=True)]


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


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every null (None, NaN, NaT, pd.NA) as `-`, for display."""
    return frame.astype(object).where(frame.notna(), "-")


def _names_first(frame: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    return frame[[c for c in first if c in frame.columns] + [c for c in frame if c not in first]]


def _cell(value: Any) -> str:
    if _missing(value):
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value).replace("|", "\\|")


def _missing(value: Any) -> bool:
    """True for SQL nulls as pandas hands them over (None, NaN, NaT, pd.NA)."""
    return value is None or (not isinstance(value, (list, dict, str)) and bool(pd.isna(value)))
