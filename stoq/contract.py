"""The actions this client calls, and how they compare with STOQ's live `/help` manifest.

STOQ's v2 API is a public beta; its docs call `GET /help` the authoritative list of action paths
and request schemas (SPEC §6.1). `CALLS` is what the client was built against: method, path
template, the body fields it sends and the required fields it expects. `compare(manifest)` lists
every difference (`Drift`): an action gone, moved (found again by its name or an alias), a new
required field, a field we send that the schema no longer has, a required field dropped.

    drift = compare(client.help(prefix="/preorders"))
    breaking = [d for d in drift if d.breaking]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stoq.errors import MalformedResponse

PREFIX = "/preorders"  # every call below lives under it; the manifest is fetched for it alone


@dataclass(frozen=True)
class Call:
    """One action the client calls: its manifest name, method, path and body fields."""

    name: str
    method: str
    path: str  # with `:placeholders`; their names do not matter when paths are compared
    sends: frozenset[str] = frozenset()  # body fields the client may send
    requires: frozenset[str] = frozenset()  # the required fields the client was built against

    @property
    def label(self) -> str:
        """`METHOD path`, as the manifest and the docs write it."""
        return f"{self.method} {self.path}"


def _call(name: str, method: str, path: str, sends: str = "", requires: str = "") -> Call:
    return Call(name, method, path, frozenset(sends.split()), frozenset(requires.split()))


ORDER = "/preorders/orders/:id"
OFFER = "/preorders/offers/:id"
VARIANTS = "/preorders/product_variants"
CALLS: tuple[Call, ...] = (
    _call("list_offers", "GET", "/preorders/offers"),
    _call("get_offer", "GET", OFFER),
    _call("enable", "POST", f"{OFFER}/enable"),
    _call("disable", "POST", f"{OFFER}/disable"),
    _call("add_variants", "POST", f"{OFFER}/products/add_variants", "variant_ids", "variant_ids"),
    _call(
        "remove_variants", "POST", f"{OFFER}/products/remove_variants", "variant_ids", "variant_ids"
    ),
    _call("list_orders", "GET", "/preorders/orders"),
    _call("get_order", "GET", ORDER),
    _call("release", "POST", f"{ORDER}/release", "force"),
    _call("charge_balance", "POST", f"{ORDER}/payments/charge_balance"),
    _call("bulk_release", "POST", "/preorders/orders/bulk_release", "order_ids force", "order_ids"),
    _call("list_product_variants", "GET", VARIANTS),
    _call("get_product_variant", "GET", f"{VARIANTS}/:variant_id"),
    *(
        _call(job, "POST", f"{VARIANTS}/{job}", "variant_ids")
        for job in (
            "bulk_recalculate_preorder_counts",
            "bulk_reset_metafields",
            "bulk_sync_metafields",
        )
    ),
    _call("list_reports", "GET", "/preorders/reports"),
    _call("get_report", "GET", "/preorders/reports/:name"),
    _call("export_report", "POST", "/preorders/reports/:name/export"),
)


@dataclass(frozen=True)
class Drift:
    """One difference between a call and the manifest; `breaking` when the call would fail."""

    call: Call
    kind: str  # missing | moved | new required field | field not accepted | required dropped
    detail: str
    breaking: bool

    def line(self) -> str:
        """One line for a person: the call, what changed, and how."""
        return f"{self.call.label} ({self.call.name}): {self.kind}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON output and metadata."""
        return {
            "action": self.call.name,
            "call": self.call.label,
            "kind": self.kind,
            "detail": self.detail,
            "breaking": self.breaking,
        }


def compare(manifest: Mapping[str, Any], calls: Iterable[Call] = CALLS) -> list[Drift]:
    """Every difference between `calls` and the manifest's actions (empty: no drift)."""
    actions = listed_actions(manifest)
    by_route = {(a["method"], _shape(a["path"])): a for a in actions}
    drift: list[Drift] = []
    for call in calls:
        action = by_route.get((call.method, _shape(call.path)))
        if action is None:
            drift.append(_gone(call, actions))
        else:
            drift += _schema_drift(call, action)
    return drift


def listed_actions(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The manifest's well-formed actions; a manifest without an actions list is malformed."""
    actions = manifest.get("actions") if isinstance(manifest, Mapping) else None
    if not isinstance(actions, list):
        raise MalformedResponse("GET /help: no 'actions' list")
    return [
        a
        for a in actions
        if isinstance(a, dict)
        and isinstance(a.get("method"), str)
        and isinstance(a.get("path"), str)
    ]


def _shape(path: str) -> str:
    """The path with every placeholder written `:`, so `:id` and `:order_id` compare equal."""
    return "/".join(":" if s.startswith(":") else s for s in path.strip("/").split("/"))


def _gone(call: Call, actions: list[dict[str, Any]]) -> Drift:
    """A call whose route is gone: moved when its name or an alias names another route."""
    for action in actions:
        names = {action.get("name"), *(action.get("aliases") or ())}
        if call.name in names:
            where = f"{action['method']} {action['path']}"
            return Drift(call, "moved", f"now {where} (as {action.get('name')!r})", True)
    return Drift(call, "missing", "no action at this method and path, by name or alias", True)


def _schema_drift(call: Call, action: Mapping[str, Any]) -> list[Drift]:
    """Required fields added or dropped, and sent fields the schema no longer has."""
    schema = action.get("request_schema")
    schema = schema if isinstance(schema, Mapping) else {}
    required = {str(f) for f in schema.get("required") or () if isinstance(f, str)}
    properties = schema.get("properties")
    drift: list[Drift] = []
    for field in sorted(required - call.requires):
        breaking = field not in call.sends
        note = "the client does not send it" if breaking else "the client sends it already"
        drift.append(Drift(call, "new required field", f"{field!r} ({note})", breaking))
    for field in sorted(call.requires - required):
        drift.append(Drift(call, "required dropped", f"{field!r} is no longer required", False))
    if call.method != "GET" and isinstance(properties, Mapping) and properties:
        for field in sorted(call.sends - set(properties)):
            drift.append(
                Drift(call, "field not accepted", f"{field!r} is not in the request schema", True)
            )
    return drift
