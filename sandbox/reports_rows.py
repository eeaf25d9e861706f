"""Row builders for each report, kept apart from the shared window/filter/summing code."""

from __future__ import annotations

from typing import Any

from sandbox.offers import money


def rows_for(shop, name: str, q: dict[str, Any], lines, group, bucket) -> dict[str, Any]:
    """The report-specific part of the body."""
    if name == "summary":
        by_state = group(lines, lambda o, li: o.state)
        return {"by_state": {s: acc.row()["orders"] for s, acc in sorted(by_state.items())}}
    if name in ("revenue", "by_date"):
        gran = q.get("granularity") or "day"
        groups = group(lines, lambda o, li: bucket(o.created_at, gran))
        series = []
        for period in sorted(groups):
            row = groups[period].row()
            if name == "revenue":
                deposits = (
                    _cents(row["deposits_collected"]) if q.get("include_deposits", True) else 0
                )
                balances = (
                    _cents(row["balances_collected"]) if q.get("include_balances", True) else 0
                )
                series.append(
                    {
                        "period": period,
                        "orders": row["orders"],
                        "revenue": money(deposits + balances),
                    }
                )
            else:
                metrics = q.get("metrics") or ["orders", "units", "revenue", "customers"]
                series.append({"period": period, **{m: row[m] for m in metrics}})
        return {"granularity": gran, "series": series}
    if name == "by_variant":
        groups = group(lines, lambda o, li: (li.variant_id, li.product_id, li.title))
        return {
            "rows": [
                {"shopify_variant_id": v, "shopify_product_id": p, "title": t, **acc.row()}
                for (v, p, t), acc in sorted(groups.items())
            ]
        }
    if name == "by_product":
        groups = group(lines, lambda o, li: li.product_id)
        return {
            "rows": [{"shopify_product_id": p, **acc.row()} for p, acc in sorted(groups.items())]
        }
    if name == "by_offer":
        groups = group(lines, lambda o, li: li.offer_id)
        return {
            "rows": [
                {
                    "offer_id": oid,
                    "name": shop.offers[oid].name,
                    "status": shop.offers[oid].status,
                    **acc.row(),
                }
                for oid, acc in sorted(groups.items())
            ]
        }
    if name == "by_state":
        groups = group(lines, lambda o, li: o.state)
        return {"rows": [{"state": s, **acc.row()} for s, acc in sorted(groups.items())]}
    if name == "balance_aging":
        now = shop.now()
        owing = [(o, li, s) for o, li, s in lines if o.outstanding_cents > 0]
        groups = group(owing, lambda o, li: _age_bucket((now - o.created_at) / 86400.0))
        order = ["0-30", "31-60", "61-90", "90+"]
        return {"rows": [{"age_days": b, **groups[b].row()} for b in order if b in groups]}
    if name == "customers":
        groups = group(lines, lambda o, li: (o.customer.id, o.customer.email, o.customer.name))
        rows = [
            {"customer_id": c, "email": e, "name": n, **acc.row()}
            for (c, e, n), acc in sorted(groups.items())
        ]
        return {"customers": rows}
    return {}


def _cents(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int(frac or 0)


def _age_bucket(days: float) -> str:
    if days <= 30:
        return "0-30"
    if days <= 60:
        return "31-60"
    return "61-90" if days <= 90 else "90+"
