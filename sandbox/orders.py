"""Preorder orders: stored Shopify-backed fields, the derived state and the order actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import iso
from sandbox.errors import ApiError
from sandbox.offers import money

STATES = (
    "placed",
    "awaiting_balance",
    "balance_collected",
    "released",
    "fulfilled",
    "cancelled",
    "refunded",
)
HELD = ("on_hold", "scheduled")


@dataclass(slots=True)
class Customer:
    """A Shopify customer."""

    id: int
    email: str
    name: str


@dataclass(slots=True)
class LineItem:
    """One preorder line: a variant of an offer."""

    variant_id: int
    product_id: int
    offer_id: str
    quantity: int
    price_cents: int
    title: str


@dataclass(slots=True)
class Order:
    """The inputs the StatusCompiler reads; `state` is derived on every read (SPEC §3.1)."""

    id: int
    name: str
    created_at: float
    customer: Customer
    line_items: list[LineItem]
    deposit_cents: int
    paid_cents: int
    financial_status: str
    fulfillment_status: str
    currency: str = "USD"
    cancelled_at: float | None = None
    charged_at: float | None = None
    refunded_at: float | None = None
    released_at: float | None = None
    collection_url_sent_at: float | None = None
    updated_at: float = 0.0
    tags: list[str] = field(default_factory=lambda: ["preorder"])

    @property
    def total_cents(self) -> int:
        """Sum of line prices times quantities."""
        return sum(li.price_cents * li.quantity for li in self.line_items)

    @property
    def outstanding_cents(self) -> int:
        """What is still owed; nothing is owed on a refunded order."""
        if self.financial_status == "refunded":
            return 0
        return max(0, self.total_cents - self.paid_cents)

    @property
    def offer_ids(self) -> list[str]:
        """Distinct offers of the line items, in line order."""
        return list(dict.fromkeys(li.offer_id for li in self.line_items))

    @property
    def state(self) -> str:
        """SPEC §8.6 precedence: cancelled, refunded, fulfilled, released, collected, ..."""
        if self.cancelled_at is not None:
            return "cancelled"
        if self.financial_status == "refunded":
            return "refunded"
        if self.fulfillment_status == "fulfilled":
            return "fulfilled"
        if self.fulfillment_status not in HELD:
            return "released"
        if self.outstanding_cents == 0 and self.paid_cents > 0:
            return "balance_collected"
        if self.paid_cents > 0:
            return "awaiting_balance"
        return "placed"

    def render(self) -> dict[str, Any]:
        """The order exactly as SPEC §8.5 shapes it (plus a few lenient extras)."""
        total = self.total_cents
        return {
            "id": self.id,
            "shopify_order_id": self.id,
            "name": self.name,
            "state": self.state,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at or self.created_at),
            "financial_status": self.financial_status,
            "fulfillment_status": self.fulfillment_status,
            "cancelled_at": iso(self.cancelled_at),
            "customer": {
                "id": self.customer.id,
                "email": self.customer.email,
                "name": self.customer.name,
            },
            "currency": self.currency,
            "totals": {"total_price": money(total)},
            "payments": {
                "deposit": money(self.deposit_cents),
                "balance": money(total - self.deposit_cents),
                "total_outstanding": money(self.outstanding_cents),
                "charged_at": iso(self.charged_at),
                "paid": money(self.paid_cents),
                "refunded_at": iso(self.refunded_at),
                "collection_url_sent_at": iso(self.collection_url_sent_at),
            },
            "offer_ids": self.offer_ids,
            "line_items": [
                {
                    "shopify_variant_id": li.variant_id,
                    "shopify_product_id": li.product_id,
                    "quantity": li.quantity,
                    "offer_id": li.offer_id,
                    "title": li.title,
                    "price": money(li.price_cents),
                }
                for li in self.line_items
            ],
            "tags": list(self.tags),
        }

    # Actions (SPEC §8.7). Each raises a 409 whose message carries an unblock hint (§8.8).

    def _conflict(self, verb: str, reason: str, hint: str) -> ApiError:
        return ApiError(
            409, f"Cannot {verb} order {self.id}: {reason} (state: {self.state}). {hint}"
        )

    def _refuse_closed(self, verb: str) -> None:
        state = self.state
        if state in ("cancelled", "refunded"):
            raise self._conflict(
                verb, f"the order is {state}", f"{state.capitalize()} orders cannot be changed."
            )

    def release(self, now: float, force: bool = False) -> None:
        """Lift fulfillment holds; force only skips the balance check."""
        self._refuse_closed("release")
        state = self.state
        if state in ("released", "fulfilled"):
            raise self._conflict("release", f"the order is already {state}", "Nothing to release.")
        if state in ("placed", "awaiting_balance") and not force:
            raise self._conflict(
                "release",
                "balance not collected",
                "Charge the balance first or pass force: true.",
            )
        self.fulfillment_status = "unfulfilled"
        self.released_at = self.updated_at = now

    def charge_balance(self, now: float) -> None:
        """Collect the remaining balance in full."""
        self._refuse_closed("charge the balance of")
        if self.outstanding_cents == 0:
            raise self._conflict(
                "charge the balance of", "nothing is outstanding", "No charge is needed."
            )
        self.paid_cents = self.total_cents
        self.financial_status = "paid"
        self.charged_at = self.updated_at = now

    def cancel(self, now: float) -> None:
        """Cancel; fulfilled orders must be refunded instead."""
        if self.state == "cancelled":
            raise self._conflict("cancel", "the order is already cancelled", "Nothing to do.")
        if self.state == "fulfilled":
            raise self._conflict(
                "cancel",
                "the order is fulfilled",
                f"Refund it with POST /preorders/orders/{self.id}/payments/refund.",
            )
        if self.paid_cents == 0:
            self.financial_status = "voided"
        self.cancelled_at = self.updated_at = now

    def refund(self, now: float) -> None:
        """Refund everything that was paid."""
        if self.financial_status == "refunded":
            raise self._conflict("refund", "the order is already refunded", "Nothing to do.")
        if self.paid_cents == 0:
            raise self._conflict(
                "refund", "nothing was paid", "Cancel it instead with POST .../cancel."
            )
        self.financial_status = "refunded"
        self.refunded_at = self.updated_at = now

    def send_payment_collection_url(self, now: float) -> None:
        """Email the customer a link to pay the balance."""
        self._refuse_closed("send a payment collection URL for")
        if self.outstanding_cents == 0:
            raise self._conflict(
                "send a payment collection URL for",
                "nothing is outstanding",
                "The balance is already collected.",
            )
        self.collection_url_sent_at = self.updated_at = now

    def fulfill(self, now: float) -> None:
        """Shopify reports the order fulfilled (control surface only; not an API action)."""
        self.fulfillment_status = "fulfilled"
        self.updated_at = now

    def set_tags(self, tags: list[str], now: float) -> None:
        """Replace the tags, keeping first occurrences in order."""
        self.tags = list(dict.fromkeys(tags))
        self.updated_at = now
