"""Offers (selling plans) and catalog variants: records, derived status, lifecycle rules."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import iso
from sandbox.errors import ApiError

OFFER_STATUSES = ("enabled", "disabled", "scheduled", "discarded")


def money(cents: int) -> str:
    """Cents as a decimal string, e.g. 12345 -> "123.45"."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def default_widget() -> dict[str, Any]:
    """The widget capability block of a new offer."""
    return {
        "button_text": "Preorder now",
        "button_description": "Ships when stock arrives",
        "custom_colors": False,
        "button_colors": {"text": "#FFFFFF", "background": "#000000"},
        "badge": {
            "enabled": True,
            "text": "Preorder",
            "text_color": "#FFFFFF",
            "background_color": "#1F2937",
        },
        "disclaimer": {"text": "", "enabled": False},
    }


@dataclass(slots=True)
class Variant:
    """A Shopify variant in the shop's catalog, attached to zero or more offers."""

    id: int
    product_id: int
    title: str
    sku: str
    price_cents: int
    offer_ids: list[str] = field(default_factory=list)
    preorder_count: int = 0
    preorder_max_count: int | None = None
    metafields_synced_at: float | None = None
    metafield_preorder_count: int = 0


@dataclass(slots=True)
class Offer:
    """A preorder offer; its status is derived from enabled/schedule/discarded_at."""

    id: str
    name: str
    internal_name: str
    enabled: bool
    deposit_percentage: int
    created_at: float
    updated_at: float
    delivery_at: float | None = None
    discarded_at: float | None = None
    scheduled_start_at: float | None = None
    scheduled_end_at: float | None = None
    variant_ids: list[int] = field(default_factory=list)
    widget: dict[str, Any] = field(default_factory=default_widget)
    auto_collect: bool = True
    terms_enabled: bool = False

    @property
    def status(self) -> str:
        """enabled | disabled | scheduled | discarded (discarded wins)."""
        if self.discarded_at is not None:
            return "discarded"
        if self.enabled:
            return "enabled"
        if self.scheduled_start_at is not None or self.scheduled_end_at is not None:
            return "scheduled"
        return "disabled"

    def render(self) -> dict[str, Any]:
        """The full offer as the API returns it, incl. the `capabilities` summary."""
        pct = self.deposit_percentage
        full = pct >= 100
        return {
            "id": self.id,
            "name": self.name,
            "internal_name": self.internal_name,
            "status": self.status,
            "enabled": self.enabled,
            "billing_type": "no_remaining_balance" if full else "time_after_checkout",
            "billing_after_n_intervals": None if full else 30,
            "billing_after_interval_type": None if full else "day",
            "billing_checkout_charge_type": "percentage",
            "billing_checkout_charge_percentage": pct,
            "billing_checkout_charge_amount": money(0),
            "payment_type": "full" if full else "partial",
            "delivery_type": "exact_time" if self.delivery_at else "unknown",
            "delivery_at": iso(self.delivery_at),
            "scheduled_start_at": iso(self.scheduled_start_at),
            "scheduled_end_at": iso(self.scheduled_end_at),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "discarded_at": iso(self.discarded_at),
            "shopify_variant_ids": list(self.variant_ids),
            "selling_plan_product_variants_count": len(self.variant_ids),
            "capabilities": {
                "widget": copy.deepcopy(self.widget),
                "products": {
                    "variant_count": len(self.variant_ids),
                    "shopify_variant_ids": list(self.variant_ids),
                },
                "remaining_balance": {
                    "auto_collect": self.auto_collect,
                    "deposit_percentage": pct,
                },
                "terms": {"enabled": self.terms_enabled},
                "delivery": {"delivery_at": iso(self.delivery_at)},
            },
        }

    # Lifecycle: each returns nothing and raises a 409 with an unblock hint when it makes no sense.

    def _refuse_if_discarded(self, verb: str) -> None:
        if self.discarded_at is not None:
            raise ApiError(
                409,
                f"Cannot {verb} offer {self.id}: it is discarded (status: discarded). "
                f"Restore it first with POST /preorders/offers/{self.id}/restore.",
            )

    def enable(self, now: float) -> None:
        """Enable now; a no-op when already enabled; clears any schedule."""
        self._refuse_if_discarded("enable")
        self.enabled = True
        self.scheduled_start_at = self.scheduled_end_at = None
        self.updated_at = now

    def disable(self, now: float) -> None:
        """Disable now; a no-op when already disabled; clears any schedule."""
        self._refuse_if_discarded("disable")
        self.enabled = False
        self.scheduled_start_at = self.scheduled_end_at = None
        self.updated_at = now

    def schedule(self, now: float, starts_at: float | None, ends_at: float | None) -> None:
        """Schedule a start and/or end; the offer waits as `scheduled` until then."""
        self._refuse_if_discarded("schedule")
        if starts_at is not None and ends_at is not None and ends_at <= starts_at:
            raise ApiError(422, "ends_at must be after starts_at")
        self.enabled = False
        self.scheduled_start_at, self.scheduled_end_at = starts_at, ends_at
        self.updated_at = now

    def unschedule(self, now: float) -> None:
        """Drop the schedule, leaving the offer disabled."""
        self._refuse_if_discarded("unschedule")
        if self.status != "scheduled":
            raise ApiError(
                409,
                f"Cannot unschedule offer {self.id}: it is not scheduled (status: {self.status}). "
                f"Use POST /preorders/offers/{self.id}/schedule to schedule it.",
            )
        self.scheduled_start_at = self.scheduled_end_at = None
        self.updated_at = now

    def discard(self, now: float) -> None:
        """Soft delete: disables and stamps discarded_at."""
        if self.discarded_at is not None:
            raise ApiError(
                409,
                f"Cannot discard offer {self.id}: it is already discarded. "
                f"Restore it with POST /preorders/offers/{self.id}/restore.",
            )
        self.enabled = False
        self.scheduled_start_at = self.scheduled_end_at = None
        self.discarded_at = self.updated_at = now

    def restore(self, now: float) -> None:
        """Undo discard; the offer comes back disabled."""
        if self.discarded_at is None:
            raise ApiError(
                409,
                f"Cannot restore offer {self.id}: it is not discarded (status: {self.status}).",
            )
        self.discarded_at = None
        self.updated_at = now


def render_variant(variant: Variant, offers: dict[str, Offer]) -> dict[str, Any]:
    """A variant's preorder context: offers it is in, counts and metafield state."""
    plan_ids = [oid for oid in variant.offer_ids if offers[oid].status == "enabled"]
    return {
        "id": variant.id,
        "shopify_variant_id": variant.id,
        "shopify_product_id": variant.product_id,
        "title": variant.title,
        "sku": variant.sku,
        "price": money(variant.price_cents),
        "offer_ids": list(variant.offer_ids),
        "offers_count": len(variant.offer_ids),
        "preorder_count": variant.preorder_count,
        "preorder_max_count": variant.preorder_max_count,
        "metafields": {
            "namespace": "restockrocket_production",
            "selling_plan_ids": plan_ids,
            "preorder_count": variant.metafield_preorder_count,
            "preorder_max_count": variant.preorder_max_count,
            "synced_at": iso(variant.metafields_synced_at),
            "in_sync": variant.metafield_preorder_count == variant.preorder_count,
        },
    }
