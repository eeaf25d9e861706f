"""Sandbox configuration: every SPEC §8 reading the emulator takes, as plain dataclass fields."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

DEFAULT_API_KEY = "stoq_api_key_" + "sandbox".ljust(32, "0")
BASE_PATH = "/api/v2/external"

assert len(DEFAULT_API_KEY) == len("stoq_api_key_") + 32


@dataclass(frozen=True)
class ChaosConfig:
    """Seeded fault injection; every rate is a probability per API request and all are off."""

    error_5xx: float = 0.0
    burst_429: float = 0.0
    burst_length: int = 3
    burst_retry_after: int = 1
    drop: float = 0.0
    truncate: float = 0.0
    drop_after_apply: float = 0.0
    latency_ms: int = 0
    latency_jitter_ms: int = 0
    # Drift: every `drift_every`-th list-orders request creates this many orders at the head.
    new_orders_during_walk: int = 0
    drift_every: int = 1

    def updated(self, changes: dict[str, Any]) -> ChaosConfig:
        """Return a copy with `changes` applied; unknown keys raise ValueError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown chaos fields: {', '.join(unknown)}")
        return replace(self, **changes)


@dataclass(frozen=True)
class SandboxConfig:
    """What the emulated shop looks like and which reading it takes of each [U] item."""

    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    seed: int = 7
    # Order ids drawn from their own RNG with this seed (None: from `seed`'s stream, as ever).
    # Shops with the same order_id_seed and `orders` hold the same order ids, other data differing.
    order_id_seed: int | None = None
    orders: int = 500
    offers: int = 12
    # Each customer buys in one of these (ISO 4217), in turn; one currency by default.
    currencies: tuple[str, ...] = ("USD",)
    per_page_default: int = 25
    per_page_max: int = 100
    per_page_over_max: Literal["clamp", "error"] = "clamp"
    state_filter: Literal["post_fetch", "pre_fetch"] = "post_fetch"
    status_url_style: Literal["host_relative", "absolute"] = "host_relative"
    rate_limit_points: int = 360
    rate_limit_window: float = 60.0
    rate_limit_body: Literal["v1", "errors"] = "v1"
    job_steps: int = 4
    job_ttl_seconds: float = 3600.0
    download_ttl_seconds: float = 3600.0
    latency_ms: int = 0
    # Alternative readings of [U] items (see README "Alternative readings"); defaults as above.
    per_page_ignored: bool = False  # every page has per_page_default items, whatever is asked
    order_sort: Literal["newest_first", "oldest_first", "id_asc", "id_desc"] = "newest_first"
    meta_style: Literal["full", "count_only", "first_page_only"] = "full"
    page_past_end: Literal["empty", "404"] = "empty"
    order_ids: Literal["same", "distinct"] = "same"  # "distinct": `id` is an internal number
    money_format: Literal["string", "number"] = "string"
    timestamp_format: Literal["z", "offset", "fractional"] = "z"
    extra_fields: bool = False  # unknown keys on orders, line items and meta
    null_customers: bool = False  # `customer: null` on every third order (by Shopify id)
    window_values: Literal["any", "date_only"] = "any"  # "date_only": 422 on a datetime
    from_exclusive: bool = False
    rate_limit_hints: Literal["all", "retry_after", "http_date", "body", "reset", "none"] = "all"
    write_status: int = 202
    write_body: Literal["full", "empty", "minimal"] = "full"  # "minimal": `{}`
    job_404_polls: int = 0  # the first N polls of a new job answer 404 (eventual consistency)
    job_error_style: Literal["string", "object"] = "string"
    # STOQ changing its contract: edits of the served /help and routes (sandbox/manifest.py).
    manifest_edits: tuple[dict[str, Any], ...] = ()
    chaos: ChaosConfig = field(default_factory=ChaosConfig)

    def __post_init__(self) -> None:
        """A shop sells in at least one currency."""
        if not self.currencies:
            raise ValueError("currencies: name at least one (ISO 4217 code)")
