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


_NONE = type(None)
_TEXT = frozenset({str, _NONE})
_LIST = frozenset({list, _NONE})
_OBJECT = frozenset({dict, _NONE})
_MONEY = parse.MONEY.fullmatch
_INT64_MAX = 2**63
_INT32 = 2**31


def line_items(order_id: int, items: Any, out: list[tuple[Any, ...]]) -> None:
    """Append an order's line items to `out` as rows in `LINE_COLUMNS` order."""
    if items is None:
        return
    if type(items) is not list:
        raise BadField(f"line_items is not a list: {parse.show(items)}")
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise BadField(f"line_items[{index}] is not an object: {parse.show(item)}")
        g = item.get
        row = (
            order_id,
            index,
            g("shopify_variant_id"),
            g("shopify_product_id"),
            g("offer_id"),
            g("quantity"),
            g("title"),
            g("sku"),
            g("price"),
        )
        variant, product, quantity, price = row[2], row[3], row[5], row[8]
        if not (
            (variant is None or (type(variant) is int and 0 < variant < _INT64_MAX))
            and (product is None or (type(product) is int and 0 < product < _INT64_MAX))
            and (quantity is None or (type(quantity) is int and -_INT32 <= quantity < _INT32))
            and type(row[4]) in _TEXT
            and type(row[6]) in _TEXT
            and type(row[7]) in _TEXT
            and (price is None or (type(price) is str and _MONEY(price)))
        ):
            row = _slow_line_item(order_id, index, item)
        out.append(row)


def _slow_line_item(order_id: int, index: int, item: dict[str, Any]) -> tuple[Any, ...]:
    """The checked (slow) path: coerce digit strings, or raise BadField naming the field."""
    where = f"line_items[{index}]"
    return (
        order_id,
        index,
        parse.identifier(item.get("shopify_variant_id"), f"{where}.shopify_variant_id"),
        parse.identifier(item.get("shopify_product_id"), f"{where}.shopify_product_id"),
        parse.text(item.get("offer_id"), f"{where}.offer_id"),
        parse.integer(item.get("quantity"), f"{where}.quantity", bits=32),
        parse.text(item.get("title"), f"{where}.title"),
        parse.text(item.get("sku"), f"{where}.sku"),
        parse.decimal_text(item.get("price"), f"{where}.price"),
    )


def order_row(oid: int, rec: dict[str, Any]) -> tuple[Any, ...]:
    """The typed scalar fields of one order, in `ORDER_COLUMNS` order (fast path, then checks)."""
    g = rec.get
    totals, pay, cust = g("totals"), g("payments"), g("customer")
    if not (type(totals) in _OBJECT and type(pay) in _OBJECT and type(cust) in _OBJECT):
        return _slow_order_row(oid, rec)
    totals, pay, cust = totals or {}, pay or {}, cust or {}
    row = (
        oid,
        g("name"),
        g("state"),
        g("created_at"),
        g("financial_status"),
        g("fulfillment_status"),
        g("cancelled_at"),
        g("currency"),
        totals.get("total_price", g("total_price")),
        pay.get("deposit"),
        pay.get("balance"),
        pay.get("total_outstanding"),
        pay.get("charged_at", g("charged_at")),
        cust.get("id", g("customer_id")),
        cust.get("email"),
        cust.get("name"),
        g("tags"),
        g("offer_ids"),
    )
    t, m = _TEXT, _MONEY
    tags, offer_ids, customer_id = row[16], row[17], row[13]
    ok = (
        type(row[2]) is str
        and type(row[3]) is str
        and row[2]
        and row[3]
        and type(row[1]) in t
        and type(row[4]) in t
        and type(row[5]) in t
        and type(row[6]) in t
        and type(row[7]) in t
        and (row[8] is None or (type(row[8]) is str and m(row[8])))
        and (row[9] is None or (type(row[9]) is str and m(row[9])))
        and (row[10] is None or (type(row[10]) is str and m(row[10])))
        and (row[11] is None or (type(row[11]) is str and m(row[11])))
        and type(row[12]) in t
        and (customer_id is None or (type(customer_id) is int and 0 < customer_id < _INT64_MAX))
        and type(row[14]) in t
        and type(row[15]) in t
        and (tags is None or (type(tags) is list and all(type(v) is str for v in tags)))
        and (
            offer_ids is None
            or (type(offer_ids) is list and all(type(v) is str for v in offer_ids))
        )
    )
    return row if ok else _slow_order_row(oid, rec)


def _slow_order_row(oid: int, rec: dict[str, Any]) -> tuple[Any, ...]:
    """The checked (slow) path: coerce what is safe, or raise BadField naming the field."""
    text, money = parse.text, parse.decimal_text
    totals = parse.mapping(rec.get("totals"), "totals")
    pay = parse.mapping(rec.get("payments"), "payments")
    cust = parse.mapping(rec.get("customer"), "customer")
    return (
        oid,
        text(rec.get("name"), "name"),
        parse.required_text(rec.get("state"), "state"),
        parse.required_text(rec.get("created_at"), "created_at"),
        text(rec.get("financial_status"), "financial_status"),
        text(rec.get("fulfillment_status"), "fulfillment_status"),
        text(rec.get("cancelled_at"), "cancelled_at"),
        text(rec.get("currency"), "currency"),
        money(totals.get("total_price", rec.get("total_price")), "total_price"),
        money(pay.get("deposit"), "deposit"),
        money(pay.get("balance"), "balance"),
        money(pay.get("total_outstanding"), "total_outstanding"),
        text(pay.get("charged_at", rec.get("charged_at")), "charged_at"),
        parse.identifier(cust.get("id", rec.get("customer_id")), "customer.id"),
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
    ids = [parse.identifier(v, f"shopify_variant_ids[{i}]") for i, v in enumerate(value)]
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
        parse.integer(count, "variant_count", bits=32),
        variants is not None,
    )
