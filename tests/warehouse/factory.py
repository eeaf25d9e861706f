"""Hand-built API records in the SPEC §8.5 (orders) and §2.5 (offers) shapes."""

from __future__ import annotations

from typing import Any

OFFER_A = "0b7f6a52-1c1e-4b7e-9a51-5f3f1e0c0a01"
OFFER_B = "0b7f6a52-1c1e-4b7e-9a51-5f3f1e0c0a02"

# (financial_status, fulfillment_status) per state, consistent with SPEC §8 item 6.
_STATUS = {
    "placed": ("pending", "on_hold"),
    "awaiting_balance": ("partially_paid", "on_hold"),
    "balance_collected": ("paid", "on_hold"),
    "released": ("paid", None),
    "fulfilled": ("paid", "fulfilled"),
    "cancelled": ("voided", "on_hold"),
    "refunded": ("refunded", "on_hold"),
}


def order(
    oid: int,
    *,
    state: str = "awaiting_balance",
    created_at: str = "2025-07-01T19:15:12Z",
    total: str = "100.00",
    deposit: str = "20.00",
    outstanding: str | None = None,
    lines: list[tuple[str | None, int]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """An order record; `lines` is [(offer_id, quantity)], default one unit of OFFER_A."""
    lines = [(OFFER_A, 1)] if lines is None else lines
    financial, fulfillment = _STATUS.get(state, ("pending", None))
    if outstanding is None:
        paid = state in ("balance_collected", "released", "fulfilled")
        outstanding = "0.00" if paid else f"{float(total) - float(deposit):.2f}"
    rec: dict[str, Any] = {
        "id": oid,
        "shopify_order_id": oid,
        "name": f"#{oid % 100000}",
        "state": state,
        "created_at": created_at,
        "financial_status": financial,
        "fulfillment_status": fulfillment,
        "cancelled_at": "2025-08-01T00:00:00Z" if state == "cancelled" else None,
        "customer": {"id": 7000 + oid, "email": f"c{oid}@example.com", "name": "Jane Doe"},
        "currency": "USD",
        "totals": {"total_price": total},
        "payments": {
            "deposit": deposit,
            "balance": f"{float(total) - float(deposit):.2f}",
            "total_outstanding": outstanding,
            "charged_at": "2025-07-20T10:00:00Z" if outstanding == "0.00" else None,
        },
        "offer_ids": sorted({o for o, _ in lines if o}),
        "line_items": [
            {
                "shopify_variant_id": 43900910010000 + i,
                "shopify_product_id": 8012345678901,
                "quantity": qty,
                "offer_id": offer_id,
            }
            for i, (offer_id, qty) in enumerate(lines)
        ],
        "tags": ["preorder"],
    }
    rec.update(overrides)
    return rec


def offer(oid: str = OFFER_A, *, variants: list[int] | None = None, **overrides: Any) -> dict:
    """An offer record (v1 field names, SPEC §2.5), with a capabilities block."""
    rec: dict[str, Any] = {
        "id": oid,
        "name": "Summer drop",
        "internal_name": "summer-2025",
        "status": "enabled",
        "enabled": True,
        "billing_type": "exact_time",
        "billing_checkout_charge_type": "percentage",
        "billing_checkout_charge_percentage": "20.0",
        "billing_checkout_charge_amount": None,
        "delivery_type": "exact_time",
        "delivery_at": "2025-09-01T00:00:00Z",
        "created_at": "2025-06-01T12:00:00Z",
        "updated_at": "2025-06-02T12:00:00Z",
        "discarded_at": None,
        "shopify_variant_ids": [43900910010503, 43900910043271] if variants is None else variants,
        "capabilities": {"widget": {"button_text": "Preorder now"}},
    }
    rec.update(overrides)
    return rec
