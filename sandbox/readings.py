"""Alternative readings of SPEC [U] items, applied on the way out so the core stays one model."""

from __future__ import annotations

import math
from email.utils import formatdate
from typing import Any

from sandbox.config import SandboxConfig
from sandbox.errors import ApiError

# The internal `id` under `order_ids="distinct"`: a small number unlike any Shopify id.
INTERNAL_ID_OFFSET = 5_512_345_000_000
_TIME_KEYS = ("created_at", "updated_at", "cancelled_at")
_PAYMENT_TIMES = ("charged_at", "refunded_at", "collection_url_sent_at")


def shape_order(record: dict[str, Any], cfg: SandboxConfig) -> dict[str, Any]:
    """An order as this reading renders it (the default reading returns it untouched)."""
    if cfg.order_ids == "distinct":
        record["id"] = record["shopify_order_id"] - INTERNAL_ID_OFFSET
    if cfg.null_customers and record["shopify_order_id"] % 3 == 0:
        record["customer"] = None
    pay = record["payments"]
    if cfg.money_format == "number":
        record["totals"]["total_price"] = _number(record["totals"]["total_price"])
        for key in ("deposit", "balance", "total_outstanding", "paid"):
            pay[key] = _number(pay[key])
        for line in record["line_items"]:
            line["price"] = _number(line["price"])
    if cfg.timestamp_format != "z":
        for key in _TIME_KEYS:
            record[key] = _time(record[key], cfg.timestamp_format)
        for key in _PAYMENT_TIMES:
            pay[key] = _time(pay[key], cfg.timestamp_format)
    if cfg.extra_fields:
        record["source_name"] = "web"
        record["x_sandbox"] = {"shard": record["shopify_order_id"] % 7, "flags": []}
        for line in record["line_items"]:
            line["properties"] = [{"name": "_preorder", "value": "1"}]
    return record


def _number(text: str) -> float:
    return float(text)


def _time(text: str | None, style: str) -> str | None:
    if text is None:
        return None
    if style == "fractional":
        return text.replace("Z", ".000Z")
    return text.replace("Z", "+00:00")


def list_meta(cfg: SandboxConfig, total: int, page: int, per_page: int) -> dict[str, Any]:
    """The list `meta` block for this reading; 404 past the end under `page_past_end="404"`."""
    pages = math.ceil(total / per_page) if total else 0
    if cfg.page_past_end == "404" and page > max(1, pages):
        raise ApiError(404, f"Page {page} is out of range (total_pages: {pages})")
    out: dict[str, Any] = {
        "total_count": total,
        "page": page,
        "per_page": per_page,
        "total_pages": pages,
    }
    if cfg.meta_style == "count_only" or (cfg.meta_style == "first_page_only" and page > 1):
        del out["total_pages"]
    if cfg.extra_fields:
        out["next_page"] = page + 1 if page < pages else None
    return out


def limited(
    cfg: SandboxConfig, headers: dict[str, str], payload: dict[str, Any], now: float
) -> tuple[dict[str, str], dict[str, Any]]:
    """The 429 headers and body with only the hints this reading sends."""
    hints = cfg.rate_limit_hints
    wait = int(headers.get("Retry-After", "1"))
    headers = dict(headers)
    if hints == "all":
        return headers, payload
    bare = {"errors": ["Rate limit exceeded"]}
    if hints != "reset":
        headers.pop("X-RateLimit-Reset", None)
    if hints not in ("retry_after", "http_date"):
        headers.pop("Retry-After", None)
    if hints == "http_date":
        headers["Retry-After"] = formatdate(math.ceil(now) + wait, usegmt=True)
    if hints == "body":
        return headers, {"error": "Rate limit exceeded", "retry_after": wait}
    return headers, bare


def write_answer(cfg: SandboxConfig, payload: dict[str, Any]) -> tuple[int, Any]:
    """(status, body) of a synchronous write: `None` body means an empty response."""
    if cfg.write_body == "empty":
        return cfg.write_status, None
    if cfg.write_body == "minimal":
        return cfg.write_status, {}
    return cfg.write_status, payload


def job_error(cfg: SandboxConfig, status: dict[str, Any]) -> dict[str, Any]:
    """A job status with `error` as an object under `job_error_style="object"`."""
    if cfg.job_error_style == "object" and isinstance(status.get("error"), str):
        status["error"] = {"code": "job_failed", "message": status["error"]}
    return status
