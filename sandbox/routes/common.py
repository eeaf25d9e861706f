"""Shared pieces of the handlers: pagination, date windows, id lookups and schema fragments."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sandbox.errors import ApiError, not_found
from sandbox.readings import job_error, list_meta

PAGE_SCHEMA: dict[str, Any] = {
    "page": {"type": "integer", "minimum": 1, "description": "1-based page number"},
    "per_page": {
        "type": "integer",
        "minimum": 1,
        "description": "page size; default 25, above the max clamped (or 422 per config)",
    },
}
ORDER_IDS = {"type": "array", "items": {"type": "integer"}, "minItems": 1}
VARIANT_IDS = {"type": "array", "items": {"type": "integer"}, "minItems": 1}


def query_schema(**props: Any) -> dict[str, Any]:
    """An object schema of query parameters plus page/per_page."""
    return {"type": "object", "properties": {**props, **PAGE_SCHEMA}}


def body_schema(required: tuple[str, ...] = (), strict: bool = True, **props: Any) -> dict:
    """An object schema for a JSON body; strict bodies reject unknown keys."""
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    if strict:
        schema["additionalProperties"] = False
    return schema


def page_params(shop, query: dict[str, Any]) -> tuple[int, int]:
    """(page, per_page) with the default and the clamp or 422 above the max (SPEC §8.1)."""
    cfg = shop.config
    per_page = query.get("per_page") or cfg.per_page_default
    if cfg.per_page_ignored:
        per_page = cfg.per_page_default
    if per_page > cfg.per_page_max:
        if cfg.per_page_over_max == "error":
            raise ApiError(422, f"per_page must be <= {cfg.per_page_max}")
        per_page = cfg.per_page_max
    return query.get("page") or 1, per_page


def meta(total: int, page: int, per_page: int) -> dict[str, int]:
    """The list `meta` block."""
    return {
        "total_count": total,
        "page": page,
        "per_page": per_page,
        "total_pages": math.ceil(total / per_page) if total else 0,
    }


def paged(key: str, items: list[Any], page: int, per_page: int, cfg=None) -> dict[str, Any]:
    """Slice a fully known list into one page envelope (out-of-range page -> empty list)."""
    start = (page - 1) * per_page
    total = len(items)
    block = meta(total, page, per_page) if cfg is None else list_meta(cfg, total, page, per_page)
    return {key: items[start : start + per_page], "meta": block}


def parse_instant(text: str, name: str, end: bool = False) -> float:
    """ISO 8601 date or datetime as unix seconds in UTC; a date-only `end` covers its whole day."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day += timedelta(days=1)
            return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(422, f"{name} must be an ISO 8601 date or datetime") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ts = moment.timestamp()
    # A datetime `to` is inclusive; the order book's window end is exclusive.
    return math.nextafter(ts, math.inf) if end else ts


def window(query: dict[str, Any], cfg=None) -> tuple[float | None, float | None]:
    """(start, exclusive end) from `from`/`to`, under the config's window reading."""
    if cfg is not None and cfg.window_values == "date_only":
        for name in ("from", "to"):
            if query.get(name) and len(query[name]) != 10:
                raise ApiError(422, f"{name} must be an ISO 8601 date (YYYY-MM-DD)")
    start = parse_instant(query["from"], "from") if query.get("from") else None
    end = parse_instant(query["to"], "to", end=True) if query.get("to") else None
    if start is not None and cfg is not None and cfg.from_exclusive:
        start = math.nextafter(start, math.inf)
    return start, end


def get_order(shop, raw_id: str):
    """The order for a path id, or 404."""
    order = shop.orders.get(int(raw_id)) if raw_id.isdigit() else None
    if order is None:
        raise not_found("Order")
    return order


def get_offer(shop, raw_id: str):
    """The offer for a path id, or 404."""
    offer = shop.offers.get(raw_id)
    if offer is None:
        raise not_found("Offer")
    return offer


def get_variant(shop, raw_id: str):
    """The catalog variant for a path id, or 404."""
    variant = shop.variants.get(int(raw_id)) if raw_id.isdigit() else None
    if variant is None:
        raise not_found("Variant")
    return variant


def poll_job(shop, req) -> dict[str, Any]:
    """Advance and render the job at this status path; 404 when unknown, expired or elsewhere."""
    job = shop.jobs.get(req.params["job_id"], shop.now())
    if job is None or job.status_path != req.path:
        raise ApiError(404, "Job not found")
    if job.hidden_polls < shop.config.job_404_polls:
        job.hidden_polls += 1  # not visible to readers yet (eventual consistency)
        raise ApiError(404, "Job not found")
    return job_error(shop.config, shop.jobs.poll(job.id, shop.now()).render())
