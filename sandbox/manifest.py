"""Manifest edits: a copy of the registry as STOQ might change it (SandboxConfig.manifest_edits).

Each edit is a JSON object naming one action by its registered name; the edited copy is what the
shop lists under /help *and* what it routes, so the change is real:

    {"action": "release", "remove": true}                 # gone: its path answers 404
    {"action": "release", "name": "release_order",        # renamed and moved: the old path 404s
     "path": "/preorders/orders/:id/release_order"}
    {"action": "add_variants", "rename_fields": {"variant_ids": "ids"}}  # body field renamed
    {"action": "release", "add_aliases": ["free the order"]}             # only listed

A renamed field is renamed in the request schema (properties and required), so the old name is
refused as an unknown field; the handler still reads the old name (the edit renames it back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from sandbox.registry import Action, Registry

EDIT_KEYS = frozenset({"action", "remove", "name", "path", "add_aliases", "rename_fields"})
FIXED = frozenset({"help"})  # the manifest itself cannot be edited away


def edited(registry: Registry, edits: Iterable[Mapping[str, Any]]) -> Registry:
    """A new registry with every edit applied in order; ValueError on an edit it cannot apply."""
    out = Registry()
    out.actions = list(registry.actions)
    for edit in edits:
        _apply(out.actions, edit)
    return out


def _apply(actions: list[Action], edit: Mapping[str, Any]) -> None:
    if not isinstance(edit, Mapping):
        raise ValueError(f"a manifest edit is an object, not {type(edit).__name__}")
    unknown = sorted(set(edit) - EDIT_KEYS)
    if unknown:
        raise ValueError(f"unknown manifest edit keys: {', '.join(unknown)}")
    name = edit.get("action")
    if name in FIXED:
        raise ValueError(f"the {name!r} action cannot be edited")
    found = [i for i, a in enumerate(actions) if a.name == name]
    if not found:
        raise ValueError(f"no action named {name!r} to edit")
    index = found[0]
    if edit.get("remove"):
        del actions[index]
        return
    action = actions[index]
    changes: dict[str, Any] = {}
    if "name" in edit:
        changes["name"] = _text(edit["name"], "name")
    if "path" in edit:
        path = _text(edit["path"], "path")
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        changes["path"] = path
    if "add_aliases" in edit:
        added = [_text(a, "alias") for a in _list(edit["add_aliases"], "add_aliases")]
        changes["aliases"] = (*action.aliases, *added)
    if "rename_fields" in edit:
        renames = edit["rename_fields"]
        if not isinstance(renames, Mapping) or not renames:
            raise ValueError("rename_fields maps old field names to new ones")
        fields = {_text(old, "field"): _text(new, "field") for old, new in renames.items()}
        changes["request_schema"] = _renamed_schema(action.request_schema, fields)
        changes["handler"] = _reading_old_names(action.handler, fields)
    actions[index] = replace(action, **changes)


def _renamed_schema(schema: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """The schema with each old field renamed, in `properties` and `required`."""
    properties = schema.get("properties") or {}
    missing = sorted(set(fields) - set(properties))
    if missing:
        raise ValueError(f"no such fields to rename: {', '.join(missing)}")
    out = dict(schema)
    out["properties"] = {fields.get(k, k): v for k, v in properties.items()}
    if "required" in schema:
        out["required"] = [fields.get(f, f) for f in schema["required"]]
    return out


def _reading_old_names(handler: Callable[..., Any], fields: dict[str, str]) -> Callable[..., Any]:
    """The handler, fed the body and query under the names it was written for."""
    back = {new: old for old, new in fields.items()}

    def run(shop: Any, req: Any) -> Any:
        body = {back.get(k, k): v for k, v in req.body.items()}
        query = {back.get(k, k): v for k, v in req.query.items()}
        return handler(shop, replace(req, body=body, query=query))

    return run


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, not {value!r}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{what} must be a list")
    return list(value)
