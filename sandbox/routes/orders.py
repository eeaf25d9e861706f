"""Order actions: list/read, the state-machine actions, tags, bulk jobs and job polling."""

from __future__ import annotations

from sandbox.jobs import Job
from sandbox.orders import STATES
from sandbox.readings import list_meta, write_answer
from sandbox.registry import REGISTRY
from sandbox.routes.common import (
    ORDER_IDS,
    body_schema,
    get_order,
    page_params,
    poll_job,
    query_schema,
    window,
)

action = REGISTRY.action
BASE = "/preorders/orders"
TAGS = {"type": "array", "items": {"type": "string"}}


@action(
    "list_orders",
    "GET",
    BASE,
    "List preorder orders, newest first (created_at desc, id desc).",
    aliases=["list orders", "preorder orders", "show orders"],
    schema=query_schema(
        state={"type": "string", "enum": list(STATES)},
        offer_id={"type": "string"},
        variant_id={"type": "integer"},
        customer_id={"type": "integer"},
        **{"from": {"type": "string"}, "to": {"type": "string"}},
    ),
    notes=(
        "state is a post-fetch filter: the page is cut first, then non-matching orders are "
        "dropped, so pages can be short or empty and meta counts the pre-filter set. "
        "from/to are ISO 8601 in UTC, both inclusive; a date-only `to` covers the whole day."
    ),
)
def list_orders(shop, req):
    drift = shop.chaos.drift_due()
    if drift:
        shop.create_orders(drift)
    q = req.query
    page, per_page = page_params(shop, q)
    start, end = window(q, shop.config)
    lo, hi = shop.orders.window(start, end)
    state = q.get("state")
    pre_fetch = state and shop.config.state_filter == "pre_fetch"
    tests = []
    if q.get("offer_id"):
        tests.append(lambda o: q["offer_id"] in o.offer_ids)
    if q.get("variant_id") is not None:
        tests.append(lambda o: any(li.variant_id == q["variant_id"] for li in o.line_items))
    if q.get("customer_id") is not None:
        tests.append(lambda o: o.customer.id == q["customer_id"])
    if pre_fetch:
        tests.append(lambda o: o.state == state)
    offset = (page - 1) * per_page
    sort = shop.config.order_sort
    if tests or sort != "newest_first":
        # A filter or sort the order book can't serve demands a scan of the window.
        matched = shop.orders.scan(lo, hi, lambda o: all(t(o) for t in tests))
        matched = _sorted(matched, sort)
        total, items = len(matched), matched[offset : offset + per_page]
    else:
        total, items = hi - lo, shop.orders.page(lo, hi, offset, per_page)
    if state and not pre_fetch:
        items = [o for o in items if o.state == state]
    block = list_meta(shop.config, total, page, per_page)
    return 200, {"orders": [shop.render_order(o) for o in items], "meta": block}


def _sorted(newest_first, sort):
    """The scanned (newest-first) window in the configured order."""
    if sort == "oldest_first":
        return newest_first[::-1]
    if sort in ("id_asc", "id_desc"):
        return sorted(newest_first, key=lambda o: o.id, reverse=sort == "id_desc")
    return newest_first


@action(
    "get_order",
    "GET",
    f"{BASE}/:id",
    "Read one order by Shopify order id.",
    aliases=["show order", "order details"],
)
def read_order(shop, req):
    return 200, shop.render_order(get_order(shop, req.params["id"]))


def _order_action(name, path, description, aliases, schema=None, notes=""):
    @action(
        name, "POST", f"{BASE}/:id/{path}", description, aliases=aliases, schema=schema, notes=notes
    )
    def run(shop, req):
        order = get_order(shop, req.params["id"])
        now = shop.now()
        if name == "release":
            order.release(now, force=bool(req.body.get("force", False)))
        elif name in ("set_tags", "add_tags", "remove_tags"):
            tags = req.body["tags"]
            if name == "add_tags":
                tags = order.tags + tags
            elif name == "remove_tags":
                tags = [t for t in order.tags if t not in tags]
            order.set_tags(tags, now)
        else:
            getattr(order, name)(now)
        return write_answer(shop.config, shop.render_order(order))

    return run


_order_action(
    "release",
    "release",
    "Lift fulfillment holds so the order can ship.",
    ["release order", "ship preorder"],
    body_schema(force={"type": "boolean"}),
    "409 unless balance_collected; force: true skips only the balance check.",
)
_order_action(
    "charge_balance",
    "payments/charge_balance",
    "Collect the remaining balance.",
    ["charge balance", "collect balance"],
    notes="409 when nothing is outstanding.",
)
_order_action(
    "cancel",
    "cancel",
    "Cancel the order.",
    ["cancel order"],
    notes="409 when already cancelled or fulfilled.",
)
_order_action(
    "refund",
    "payments/refund",
    "Refund everything paid on the order.",
    ["refund order"],
    body_schema(reason={"type": "string"}),
    "Full refunds only; 409 when nothing was paid.",
)
_order_action(
    "send_payment_collection_url",
    "payments/send_payment_collection_url",
    "Email the customer a link to pay the balance.",
    ["send payment link"],
    notes="409 when nothing is outstanding.",
)
TAG_BODY = body_schema(("tags",), tags=TAGS)
_order_action(
    "set_tags", "tags/set", "Replace the order's tags.", ["set tags", "tag order"], TAG_BODY
)
_order_action("add_tags", "tags/add", "Add tags to the order.", ["add tags"], TAG_BODY)
_order_action(
    "remove_tags", "tags/remove", "Remove tags from the order.", ["remove tags"], TAG_BODY
)


def _bulk(name, description, schema, apply):
    short = name.removeprefix("bulk_")

    @action(
        name,
        "POST",
        f"{BASE}/{name}",
        description,
        aliases=[name.replace("_", " ")],
        schema=schema,
        notes="Async: 202 job handle. Per-item failures are swallowed.",
    )
    def run(shop, req):
        job_id = f"bulk_orders_{short}_{shop.new_hex()}"
        body = req.body
        job = Job(
            job_id,
            f"{BASE}/jobs/{job_id}",
            list(body["order_ids"]),
            lambda oid: apply(shop, oid, body),
        )
        shop.submit_job(job)
        return 202, {
            "job_id": job_id,
            "status_url": shop.status_url(job.status_path, req.origin),
            "order_count": job.total,
        }

    return run


def _each(method):
    def apply(shop, order_id, body):
        order = get_order(shop, str(order_id))
        if method == "release":
            order.release(shop.now(), force=bool(body.get("force", False)))
        elif method == "set_tags":
            order.set_tags(body["tags"], shop.now())
        else:
            getattr(order, method)(shop.now())

    return apply


_bulk(
    "bulk_release",
    "Release many orders.",
    body_schema(("order_ids",), order_ids=ORDER_IDS, force={"type": "boolean"}),
    _each("release"),
)
_bulk(
    "bulk_cancel",
    "Cancel many orders.",
    body_schema(("order_ids",), order_ids=ORDER_IDS),
    _each("cancel"),
)
_bulk(
    "bulk_set_tags",
    "Replace the tags of many orders.",
    body_schema(("order_ids", "tags"), order_ids=ORDER_IDS, tags=TAGS),
    _each("set_tags"),
)
_bulk(
    "bulk_send_payment_collection_url",
    "Send payment links for many orders.",
    body_schema(("order_ids",), order_ids=ORDER_IDS),
    _each("send_payment_collection_url"),
)


@action(
    "get_order_job", "GET", f"{BASE}/jobs/:job_id", "Poll a bulk order job.", aliases=["job status"]
)
def order_job(shop, req):
    return 200, poll_job(shop, req)
