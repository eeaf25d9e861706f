"""The nine reports: JSON bodies over a created-at window, and their rows for CSV export."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.errors import ApiError
from sandbox.offers import money
from sandbox.reports_rows import rows_for

DAY = 86400.0
REPORTS: dict[str, tuple[str, list[str], str]] = {
    # name: (description, aliases, tag) — tag [U] marks the three names the docs don't give.
    "summary": ("High-level overview of preorder activity over a window.", ["overview"], "D"),
    "revenue": (
        "Preorder revenue over a date window, bucketed by day/week/month.",
        ["revenue report", "preorder revenue"],
        "D",
    ),
    "by_date": ("Time series of order metrics; `metrics` limits the columns.", ["daily"], "D"),
    "by_variant": ("Breakdown by variant; needs offer_id or offer_ids[].", ["per variant"], "D"),
    "customers": ("Customers with preorders in the window (paginated).", ["buyers"], "D"),
    "by_product": ("Breakdown by Shopify product.", ["per product"], "I"),
    "by_offer": ("Breakdown by offer, with outstanding balances.", ["per offer"], "U"),
    "by_state": ("Order counts and money by derived state.", ["state breakdown"], "U"),
    "balance_aging": ("Outstanding balances bucketed by order age.", ["aging"], "U"),
}
METRICS = ["orders", "units", "revenue", "customers"]
QUERY_PROPS: dict[str, Any] = {
    "from": {"type": "string", "description": "ISO 8601 date, inclusive"},
    "to": {"type": "string", "description": "ISO 8601 date, inclusive"},
    "offer_id": {"type": "string"},
    "offer_ids": {"type": "array", "items": {"type": "string"}},
    "currency": {"type": "string"},
    "product_id": {"type": "integer"},
    "variant_id": {"type": "integer"},
    "market_id": {"type": "integer"},
    "granularity": {"type": "string", "enum": ["day", "week", "month"]},
    "metrics": {"type": "array", "items": {"type": "string", "enum": METRICS}},
    "include_deposits": {"type": "boolean"},
    "include_balances": {"type": "boolean"},
    "page": {"type": "integer", "minimum": 1},
    "per_page": {"type": "integer", "minimum": 1},
}
QUERY_SCHEMA: dict[str, Any] = {"type": "object", "properties": QUERY_PROPS}
CLOSED = ("cancelled", "refunded")


def catalog(expanded: bool = False) -> list[dict[str, Any]]:
    """The report manifest (`GET /preorders/reports`); expanded adds the query schema."""
    out = []
    for name, (description, aliases, _tag) in REPORTS.items():
        entry: dict[str, Any] = {
            "name": name,
            "description": description,
            "aliases": aliases,
            "url": f"/api/v2/external/preorders/reports/{name}",
        }
        if expanded:
            entry["query_schema"] = QUERY_SCHEMA
        out.append(entry)
    return out


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _window(shop, q: dict[str, Any]) -> tuple[str, str, float, float]:
    """Resolved (from, to) dates, both inclusive; default the last 30 days."""
    today = datetime.fromtimestamp(shop.now(), UTC).date()
    try:
        start = datetime.fromisoformat(q["from"][:10]).date() if q.get("from") else None
        end = datetime.fromisoformat(q["to"][:10]).date() if q.get("to") else today
    except ValueError as exc:
        raise ApiError(422, "from/to must be ISO 8601 dates") from exc
    start = start or end - timedelta(days=29)
    if start > end:
        raise ApiError(422, "from must be on or before to")
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()
    hi = datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp() + DAY
    return start.isoformat(), end.isoformat(), lo, hi


def _lines(shop, q: dict[str, Any], lo: float, hi: float):
    """(order, line, share of order total) for every line in scope."""
    offers = set(q.get("offer_ids") or []) | ({q["offer_id"]} if q.get("offer_id") else set())
    currency = _currency(shop, q) if len(shop.config.currencies) > 1 else None
    a, b = shop.orders.window(lo, hi)
    for order in shop.orders.scan(a, b):
        if currency and order.currency != currency:
            continue  # money is never summed across currencies
        total = order.total_cents or 1
        for li in order.line_items:
            if offers and li.offer_id not in offers:
                continue
            if q.get("variant_id") is not None and li.variant_id != q["variant_id"]:
                continue
            if q.get("product_id") is not None and li.product_id != q["product_id"]:
                continue
            yield order, li, li.price_cents * li.quantity / total


def _currency(shop, q: dict[str, Any]) -> str:
    """The report's currency: the one asked for, else the shop's first."""
    return str(q.get("currency") or shop.config.currencies[0])


def _bucket(ts: float, granularity: str) -> str:
    d = datetime.fromtimestamp(ts, UTC).date()
    if granularity == "week":
        d -= timedelta(days=d.weekday())
    elif granularity == "month":
        d = d.replace(day=1)
    return d.isoformat()


class _Acc:
    """Running sums for one group of lines."""

    def __init__(self) -> None:
        self.orders: set[int] = set()
        self.customers: set[int] = set()
        self.units = self.revenue = self.deposits = self.balances = self.outstanding = 0

    def add(self, order, li, share: float) -> None:
        self.orders.add(order.id)
        self.customers.add(order.customer.id)
        if order.state in CLOSED:
            return  # Cancelled and refunded orders count as orders but bring no revenue.
        self.units += li.quantity
        self.revenue += li.price_cents * li.quantity
        self.deposits += round(min(order.paid_cents, order.deposit_cents) * share)
        self.balances += round(max(0, order.paid_cents - order.deposit_cents) * share)
        self.outstanding += round(order.outstanding_cents * share)

    def row(self) -> dict[str, Any]:
        return {
            "orders": len(self.orders),
            "customers": len(self.customers),
            "units": self.units,
            "revenue": money(self.revenue),
            "deposits_collected": money(self.deposits),
            "balances_collected": money(self.balances),
            "outstanding": money(self.outstanding),
        }


def _group(lines, key) -> dict[Any, _Acc]:
    groups: dict[Any, _Acc] = defaultdict(_Acc)
    for order, li, share in lines:
        groups[key(order, li)].add(order, li, share)
    return groups


def build(shop, name: str, q: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of report `name` (rows under `rows`, `series` or `customers`)."""
    if name == "by_variant" and not (q.get("offer_id") or q.get("offer_ids")):
        raise ApiError(422, "by_variant requires offer_id or offer_ids[]")
    if (
        name == "revenue"
        and not q.get("include_deposits", True)
        and not q.get("include_balances", True)
    ):
        raise ApiError(422, "include_deposits or include_balances must be true")
    start, end, lo, hi = _window(shop, q)
    lines = list(_lines(shop, q, lo, hi))
    total = _group(lines, lambda o, li: "all").get("all", _Acc()).row()
    body: dict[str, Any] = {
        "report": name,
        "window": {"from": start, "to": end},
        "currency": _currency(shop, q),
        "totals": total,
    }
    body.update(rows_for(shop, name, q, lines, _group, _bucket))
    return body


def to_csv(body: dict[str, Any]) -> tuple[bytes, int]:
    """Flatten a report body into CSV bytes and its row count."""
    rows = body.get("rows") or body.get("series") or body.get("customers")
    if rows is None:
        rows = [body["totals"]]
    out = io.StringIO()
    fields = list(dict.fromkeys(k for r in rows for k in r)) or ["empty"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(), len(rows)
