"""Offer actions: CRUD, lifecycle, products (variants) and the widget capability."""

from __future__ import annotations

from typing import Any

from sandbox.errors import ApiError
from sandbox.offers import OFFER_STATUSES, Offer
from sandbox.registry import REGISTRY
from sandbox.routes.common import (
    VARIANT_IDS,
    body_schema,
    get_offer,
    page_params,
    paged,
    parse_instant,
    query_schema,
)
from sandbox.seed import new_uuid

action = REGISTRY.action
BASE = "/preorders/offers"
NOT_NULL_STRING = {"type": "string", "not": {"type": "null"}}
WIDGET_SCHEMA = body_schema(
    button_text={"type": "string"},
    button_description={"type": "string"},
    custom_colors={"type": "boolean"},
    button_colors=body_schema(text={"type": "string"}, background={"type": "string"}),
    badge=body_schema(
        enabled={"type": "boolean"},
        text={"type": "string"},
        text_color={"type": "string"},
        background_color={"type": "string"},
    ),
    disclaimer=body_schema(text={"type": "string"}, enabled={"type": "boolean"}),
)


@action(
    "list_offers",
    "GET",
    BASE,
    "List offers, newest first. Discarded offers are included.",
    aliases=["list offers", "show all offers", "preorder offers", "all preorders"],
    schema=query_schema(status={"type": "string", "enum": list(OFFER_STATUSES)}),
    notes="Without `status` every offer is listed, discarded ones too (sandbox reading).",
)
def list_offers(shop, req):
    page, per_page = page_params(shop, req.query)
    offers = list(reversed(shop.offers.values()))
    if req.query.get("status"):
        offers = [o for o in offers if o.status == req.query["status"]]
    body = paged("offers", offers, page, per_page, shop.config)
    body["offers"] = [o.render() for o in body["offers"]]
    return 200, body


@action(
    "create_offer",
    "POST",
    BASE,
    "Create an offer; capabilities are configured afterwards.",
    aliases=["create offer", "new preorder offer"],
    schema=body_schema(name=NOT_NULL_STRING, internal_name=NOT_NULL_STRING),
)
def create_offer(shop, req):
    now = shop.now()
    name = req.body.get("name", "Preorder")
    offer = Offer(
        id=new_uuid(shop.rng),
        name=name,
        internal_name=req.body.get("internal_name", name),
        enabled=False,
        deposit_percentage=100,
        created_at=now,
        updated_at=now,
    )
    shop.offers[offer.id] = offer
    return 202, offer.render()


@action(
    "get_offer",
    "GET",
    f"{BASE}/:id",
    "Read one offer with its capabilities block.",
    aliases=["show offer", "offer details"],
)
def read_offer(shop, req):
    return 200, get_offer(shop, req.params["id"]).render()


@action(
    "update_offer",
    "PATCH",
    f"{BASE}/:id",
    "Rename an offer (name, internal_name only).",
    aliases=["rename offer"],
    schema=body_schema(name=NOT_NULL_STRING, internal_name=NOT_NULL_STRING),
)
def update_offer(shop, req):
    offer = get_offer(shop, req.params["id"])
    for key in ("name", "internal_name"):
        if key in req.body:
            setattr(offer, key, req.body[key])
    offer.updated_at = shop.now()
    return 202, offer.render()


def _lifecycle(verb: str, description: str, aliases: list[str], schema=None):
    @action(verb, "POST", f"{BASE}/:id/{verb}", description, aliases=aliases, schema=schema)
    def run(shop, req):
        offer = get_offer(shop, req.params["id"])
        now = shop.now()
        if verb == "schedule":
            starts = req.body.get("starts_at")
            ends = req.body.get("ends_at")
            if starts is None and ends is None:
                raise ApiError(422, "starts_at or ends_at is required")
            offer.schedule(
                now,
                parse_instant(starts, "starts_at") if starts else None,
                parse_instant(ends, "ends_at") if ends else None,
            )
        else:
            getattr(offer, verb)(now)
        return 202, offer.render()

    return run


_lifecycle(
    "discard",
    "Soft-delete an offer; undo with restore.",
    ["delete", "remove", "archive", "trash", "soft delete"],
)
_lifecycle("restore", "Undo a discard; the offer comes back disabled.", ["undelete", "unarchive"])
_lifecycle(
    "enable",
    "Enable an offer now (no-op when enabled; 409 when discarded).",
    ["turn on", "activate offer"],
)
_lifecycle(
    "disable",
    "Disable an offer now (no-op when disabled; 409 when discarded).",
    ["turn off", "deactivate offer"],
)
_lifecycle(
    "schedule",
    "Schedule an offer between starts_at and/or ends_at (ISO 8601).",
    ["schedule offer", "set start date"],
    body_schema(starts_at={"type": "string"}, ends_at={"type": "string"}),
)
_lifecycle("unschedule", "Drop an offer's schedule (409 unless scheduled).", ["cancel schedule"])


def _variants_action(verb: str, description: str):
    @action(
        f"{verb}_variants",
        "POST",
        f"{BASE}/:id/products/{verb}_variants",
        description,
        aliases=[f"{verb} variants", f"{verb} products"],
        schema=body_schema(("variant_ids",), variant_ids=VARIANT_IDS),
        notes="Shopify variant ids. Unknown ids -> 422; already (un)attached ids are no-ops.",
    )
    def run(shop, req):
        offer = get_offer(shop, req.params["id"])
        ids = list(dict.fromkeys(req.body["variant_ids"]))
        unknown = [i for i in ids if i not in shop.variants]
        if unknown:
            raise ApiError(422, f"Unknown variant ids: {', '.join(map(str, unknown))}")
        for vid in ids:
            variant = shop.variants[vid]
            if verb == "add" and vid not in offer.variant_ids:
                offer.variant_ids.append(vid)
                variant.offer_ids.append(offer.id)
            elif verb == "remove" and vid in offer.variant_ids:
                offer.variant_ids.remove(vid)
                variant.offer_ids.remove(offer.id)
        offer.updated_at = shop.now()
        return 202, offer.render()

    return run


_variants_action("add", "Attach Shopify variants to the offer.")
_variants_action("remove", "Detach Shopify variants from the offer.")


@action("get_widget", "GET", f"{BASE}/:id/widget", "Read the storefront widget capability.")
def read_widget(shop, req):
    return 200, get_offer(shop, req.params["id"]).widget


@action(
    "update_widget",
    "PATCH",
    f"{BASE}/:id/widget",
    "Deep-partial update of widget settings.",
    aliases=["change widget", "update preorder button"],
    schema=WIDGET_SCHEMA,
    notes="Toggleable fields: badge.enabled, custom_colors, disclaimer.enabled.",
)
def update_widget(shop, req):
    offer = get_offer(shop, req.params["id"])
    _deep_merge(offer.widget, req.body)
    offer.updated_at = shop.now()
    return 202, offer.widget


@action(
    "set_button_text",
    "POST",
    f"{BASE}/:id/widget/set_button_text",
    "Set the preorder button's call-to-action label.",
    aliases=[
        "change button text",
        "rename button",
        "set button label",
        "change preorder button label",
        "update button text",
    ],
    schema={
        "type": "object",
        "properties": {"text": {"not": {"type": "null"}}},
        "required": ["text"],
    },
)
def set_button_text(shop, req):
    offer = get_offer(shop, req.params["id"])
    offer.widget["button_text"] = str(req.body["text"])
    offer.updated_at = shop.now()
    return 202, offer.widget


def _deep_merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value
