"""Offer management (SPEC §2.2, §2.4): enable, disable, add or remove variants on one offer.

`manage` reads the offer, performs one action and returns an `OfferChange` (what changed);
`describe_error` turns a STOQ error into one line naming the offer. The `manage_offer` job and
`preorders offers enable|disable|add-variants|remove-variants` both call them.
"""

from dataclasses import dataclass
from typing import Any

from stoq import StoqClient, errors

ACTIONS = ("enable", "disable", "add_variants", "remove_variants")
VARIANT_ACTIONS = ("add_variants", "remove_variants")


@dataclass(frozen=True)
class OfferChange:
    """What one offer action did: status and attached variants before and after."""

    offer_id: str
    action: str
    status_before: str | None
    status_after: str | None
    variants_before: frozenset[int]
    variants_after: frozenset[int]
    offer: dict[str, Any]

    @property
    def added(self) -> list[int]:
        """Variants attached by this action."""
        return sorted(self.variants_after - self.variants_before)

    @property
    def removed(self) -> list[int]:
        """Variants detached by this action."""
        return sorted(self.variants_before - self.variants_after)

    def summary(self) -> str:
        """One line saying what happened."""
        if self.action in VARIANT_ACTIONS:
            adding = self.action == "add_variants"
            ids = self.added if adding else self.removed
            listed = f": {', '.join(map(str, ids))}" if ids else ""
            return (
                f"{'added' if adding else 'removed'} {len(ids)} variant(s) on offer "
                f"{self.offer_id} (now {len(self.variants_after)} attached){listed}"
            )
        moved = f"{self.status_before} -> {self.status_after}"
        return f"{self.action}d offer {self.offer_id} (status {moved})"

    def metadata(self) -> dict[str, Any]:
        """What the `manage_offer` op reports as output metadata."""
        return {
            "offer_id": self.offer_id,
            "action": self.action,
            "status_before": self.status_before,
            "status_after": self.status_after,
            "variants_added": self.added,
            "variants_removed": self.removed,
            "variant_count": len(self.variants_after),
            "summary": self.summary(),
        }


def manage(
    client: StoqClient, offer_id: str, action: str, variant_ids: list[int] | None = None
) -> OfferChange:
    """Read the offer, perform `action` on it and return what changed (API errors propagate)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown offer action {action!r}; expected one of {', '.join(ACTIONS)}")
    if action in VARIANT_ACTIONS and not variant_ids:
        raise ValueError(f"{action} needs at least one variant id")
    # Read first so the result can say what changed (add/remove of attached ids are no-ops).
    before = client.get_offer(offer_id)
    if action == "enable":
        after = client.enable_offer(offer_id)
    elif action == "disable":
        after = client.disable_offer(offer_id)
    elif action == "add_variants":
        after = client.add_variants(offer_id, variant_ids or [])
    else:
        after = client.remove_variants(offer_id, variant_ids or [])
    return OfferChange(
        offer_id=offer_id,
        action=action,
        status_before=before.get("status"),
        status_after=after.get("status"),
        variants_before=_variant_ids(before),
        variants_after=_variant_ids(after),
        offer=after,
    )


def describe_error(offer_id: str, action: str, exc: errors.StoqError) -> str:
    """A one-line reason naming the offer and carrying the server's hint."""
    if isinstance(exc, errors.Conflict):
        return f"cannot {action} offer {offer_id} (409): {exc.hint}"
    if isinstance(exc, errors.ValidationError):
        return f"{action} on offer {offer_id} rejected ({exc.status}): {'; '.join(exc.messages)}"
    if isinstance(exc, errors.NotFound):
        return f"offer {offer_id} not found (404)"
    return f"{action} on offer {offer_id} failed: {exc}"


def _variant_ids(offer: dict[str, Any]) -> frozenset[int]:
    ids = offer.get("shopify_variant_ids")
    if ids is None:
        ids = (offer.get("capabilities") or {}).get("products", {}).get("shopify_variant_ids")
    return frozenset(int(i) for i in ids or ())
