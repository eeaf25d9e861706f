"""Read one API record's fields into typed values (`parse.BadField` when a shape is unexpected)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from warehouse import parse
from warehouse.parse import BadField

ORDER_COLUMNS = [
    "id",
    "name",
    "state",
    "created_at",
    "financial_status",
    "fulfillment_status",
    "cancelled_at",
    "currency",
    "total_price",
    "deposit",
    "balance",
    "total_outstanding",
    "charged_at",
    "customer_id",
    "customer_email",
    "customer_name",
    "tags",
    "offer_ids",
]
LINE_COLUMNS = [
    "order_id",
    "line_index",
    "shopify_variant_id",
    "shopify_product_id",
    "offer_id",
    "quantity",
    "title",
    "sku",
    "price",
]
OFFER_COLUMNS = [
    "id",
    "name",
    "internal_name",
    "status",
    "enabled",
    "billing_type",
    "billing_checkout_charge_type",
    "billing_checkout_charge_percentage",
    "billing_checkout_charge_amount",
    "delivery_type",
    "delivery_at",
    "created_at",
    "updated_at",
    "discarded_at",
    "variant_count",
    "has_variant_list",
]


def line_items(order_id: int, items: Any, out: dict[str, list[Any]]) -> int:
    """Append an order's line items to `out` columns; return how many."""
    if items is None:
        return 0
    if type(items) is not list:
        raise BadField(f"line_items is not a list: {parse.show(items)}")
    integer, text = parse.integer, parse.text
    for index, item in enumerate(items):
        item = parse.mapping(item, f"line_items[{index}]")
        out["order_id"].append(order_id)
        out["line_index"].append(index)
        out["shopify_variant_id"].append(integer(item.get("shopify_variant_id"), "variant id"))
        out["shopify_product_id"].append(integer(item.get("shopify_product_id"), "product id"))
        out["offer_id"].append(text(item.get("offer_id"), "line item offer_id"))
        out["quantity"].append(integer(item.get("quantity"), "line item quantity"))
        out["title"].append(text(item.get("title"), "line item title"))
        out["sku"].append(text(item.get("sku"), "line item sku"))
        out["price"].append(parse.decimal_text(item.get("price"), "line item price"))
    return len(items)


def order_row(oid: int, rec: Mapping[str, Any]) -> tuple[Any, ...]:
    """The typed scalar fields of one order, in `ORDER_COLUMNS` order (without raw)."""
    text, money = parse.text, parse.decimal_text
    totals = parse.mapping(rec.get("totals"), "totals")
    pay = parse.mapping(rec.get("payments"), "payments")
    cust = parse.mapping(rec.get("customer"), "customer")
    total_price = totals.get("total_price", rec.get("total_price"))
    charged_at = pay.get("charged_at", rec.get("charged_at"))
    return (
        oid,
        text(rec.get("name"), "name"),
        parse.required_text(rec.get("state"), "state"),
        parse.required_text(rec.get("created_at"), "created_at"),
        text(rec.get("financial_status"), "financial_status"),
        text(rec.get("fulfillment_status"), "fulfillment_status"),
        text(rec.get("cancelled_at"), "cancelled_at"),
        text(rec.get("currency"), "currency"),
        money(total_price, "total_price"),
        money(pay.get("deposit"), "deposit"),
        money(pay.get("balance"), "balance"),
        money(pay.get("total_outstanding"), "total_outstanding"),
        text(charged_at, "charged_at"),
        parse.integer(cust.get("id", rec.get("customer_id")), "customer.id"),
        text(cust.get("email"), "customer.email"),
        text(cust.get("name"), "customer.name"),
        parse.text_list(rec.get("tags"), "tags"),
        parse.text_list(rec.get("offer_ids"), "offer_ids"),
    )


def _pick(rec: Mapping[str, Any], caps: Mapping[str, Any], name: str) -> Any:
    """A field at the top level, else inside any capability block (SPEC §8 item 17)."""
    value = rec.get(name)
    if value is None:
        for block in caps.values():
            if type(block) is dict and name in block:
                return block[name]
    return value


def variant_ids(rec: Mapping[str, Any], caps: Mapping[str, Any]) -> list[int] | None:
    """The offer's Shopify variant ids, deduplicated; None when the record has no variant list."""
    value = _pick(rec, caps, "shopify_variant_ids")
    if value is None:
        value = _pick(rec, caps, "variant_ids")
    if value is None:
        return None
    if type(value) is not list:
        raise BadField(f"shopify_variant_ids is not a list: {parse.show(value)}")
    ids = [parse.integer(v, "shopify_variant_ids[]") for v in value]
    return list(dict.fromkeys(i for i in ids if i is not None))


def offer_row(oid: str, rec: Mapping[str, Any], variants: list[int] | None) -> tuple[Any, ...]:
    """The typed scalar fields of one offer, in `OFFER_COLUMNS` order."""
    caps = parse.mapping(rec.get("capabilities"), "capabilities")
    text = parse.text

    def pick(name: str) -> Any:
        return _pick(rec, caps, name)

    count = pick("variant_count")
    if count is None:
        count = pick("selling_plan_product_variants_count")
    if count is None and variants is not None:
        count = len(variants)
    return (
        oid,
        text(pick("name"), "name"),
        text(pick("internal_name"), "internal_name"),
        text(pick("status"), "status"),
        parse.boolean(pick("enabled"), "enabled"),
        text(pick("billing_type"), "billing_type"),
        text(pick("billing_checkout_charge_type"), "billing_checkout_charge_type"),
        parse.percent_text(pick("billing_checkout_charge_percentage"), "charge percentage"),
        parse.decimal_text(pick("billing_checkout_charge_amount"), "charge amount"),
        text(pick("delivery_type"), "delivery_type"),
        text(pick("delivery_at"), "delivery_at"),
        text(rec.get("created_at"), "created_at"),
        text(rec.get("updated_at"), "updated_at"),
        text(rec.get("discarded_at"), "discarded_at"),
        parse.integer(count, "variant_count"),
        variants is not None,
    )
