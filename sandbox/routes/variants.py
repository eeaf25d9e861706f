"""Product-variant actions: the variant-centric view, preorder counts and metafield jobs."""

from __future__ import annotations

from sandbox.jobs import Job
from sandbox.offers import OFFER_STATUSES, render_variant
from sandbox.registry import REGISTRY
from sandbox.routes.common import (
    VARIANT_IDS,
    body_schema,
    get_variant,
    page_params,
    paged,
    poll_job,
    query_schema,
)

action = REGISTRY.action
BASE = "/preorders/product_variants"
ACTIVE = ("placed", "awaiting_balance", "balance_collected", "released")


@action(
    "list_product_variants",
    "GET",
    BASE,
    "Variants attached to any offer, by Shopify id.",
    aliases=["list variants", "preorder products"],
    schema=query_schema(
        offer_id={"type": "string"},
        product_id={"type": "integer"},
        variant_ids={"type": "array", "items": {"type": "integer"}},
    ),
    notes="variant_ids accepts `variant_ids[]=1&variant_ids[]=2` or `variant_ids=1,2`.",
)
def list_variants(shop, req):
    q = req.query
    page, per_page = page_params(shop, q)
    items = [v for v in sorted(shop.variants.values(), key=lambda v: v.id) if v.offer_ids]
    if q.get("offer_id"):
        items = [v for v in items if q["offer_id"] in v.offer_ids]
    if q.get("product_id") is not None:
        items = [v for v in items if v.product_id == q["product_id"]]
    if q.get("variant_ids"):
        wanted = set(q["variant_ids"])
        items = [v for v in items if v.id in wanted]
    body = paged("product_variants", items, page, per_page, shop.config)
    body["product_variants"] = [render_variant(v, shop.offers) for v in body["product_variants"]]
    return 200, body


@action(
    "get_product_variant",
    "GET",
    f"{BASE}/:variant_id",
    "A variant's preorder context: offers, counts and metafield state (with drift).",
    aliases=["show variant"],
)
def read_variant(shop, req):
    return 200, render_variant(get_variant(shop, req.params["variant_id"]), shop.offers)


@action(
    "list_variant_offers",
    "GET",
    f"{BASE}/:variant_id/offers",
    "Offers the variant is in.",
    aliases=["which offers is this variant in"],
    schema=query_schema(state={"type": "string", "enum": list(OFFER_STATUSES)}),
    notes="`state` filters on the offer status.",
)
def variant_offers(shop, req):
    variant = get_variant(shop, req.params["variant_id"])
    offers = [shop.offers[oid] for oid in variant.offer_ids]
    if req.query.get("state"):
        offers = [o for o in offers if o.status == req.query["state"]]
    page, per_page = page_params(shop, req.query)
    body = paged("offers", offers, page, per_page, shop.config)
    body["offers"] = [o.render() for o in body["offers"]]
    return 200, body


def recalculate(shop, variant) -> None:
    """Recount units on active orders (O(orders)) and push the count to the metafield."""
    variant.preorder_count = sum(
        li.quantity
        for o in shop.orders
        if o.state in ACTIVE
        for li in o.line_items
        if li.variant_id == variant.id
    )
    variant.metafield_preorder_count = variant.preorder_count
    variant.metafields_synced_at = shop.now()


@action(
    "recalculate_preorder_count",
    "POST",
    f"{BASE}/:variant_id/recalculate_preorder_count",
    "Recompute preorder_count from active order lines and push it to Shopify.",
    aliases=["recount preorders"],
)
def recalculate_one(shop, req):
    variant = get_variant(shop, req.params["variant_id"])
    recalculate(shop, variant)
    return 202, render_variant(variant, shop.offers)


def _recount_all(shop) -> dict[int, int]:
    counts: dict[int, int] = {}
    for o in shop.orders:
        if o.state in ACTIVE:
            for li in o.line_items:
                counts[li.variant_id] = counts.get(li.variant_id, 0) + li.quantity
    return counts


def _bulk_variants(name, description):
    @action(
        name,
        "POST",
        f"{BASE}/{name}",
        description,
        aliases=[name.replace("_", " ")],
        schema=body_schema(variant_ids=VARIANT_IDS),
        notes="Without variant_ids every attached variant is processed. Async job.",
    )
    def run(shop, req):
        ids = req.body.get("variant_ids") or [v.id for v in shop.variants.values() if v.offer_ids]
        job_id = f"{name}_{shop.new_hex()}"
        counts = _recount_all(shop) if name == "bulk_recalculate_preorder_counts" else {}

        def apply(vid):
            variant = get_variant(shop, str(vid))
            if name == "bulk_recalculate_preorder_counts":
                variant.preorder_count = counts.get(vid, 0)
            if name == "bulk_reset_metafields":
                variant.metafield_preorder_count = 0
            else:
                variant.metafield_preorder_count = variant.preorder_count
            variant.metafields_synced_at = shop.now()

        job = shop.submit_job(Job(job_id, f"{BASE}/jobs/{job_id}", list(ids), apply))
        return 202, {
            "job_id": job_id,
            "status_url": shop.status_url(job.status_path, req.origin),
            "variant_count": job.total,
        }

    return run


_bulk_variants("bulk_recalculate_preorder_counts", "Recount preorder_count for many variants.")
_bulk_variants("bulk_reset_metafields", "Reset preorder metafields for many variants.")
_bulk_variants("bulk_sync_metafields", "Push preorder metafields to Shopify for many variants.")


@action("get_variant_job", "GET", f"{BASE}/jobs/:job_id", "Poll a bulk variant job.")
def variant_job(shop, req):
    return 200, poll_job(shop, req)
