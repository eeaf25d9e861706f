"""The action registry: one table used for dispatch, validation and the /help manifest."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.config import BASE_PATH

EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class Action:
    """One registered verb+path; `handler(shop, request) -> (status, payload)`."""

    name: str
    method: str
    path: str
    description: str
    handler: Callable[..., tuple[int, Any]]
    aliases: tuple[str, ...] = ()
    request_schema: dict[str, Any] = field(default_factory=lambda: dict(EMPTY_SCHEMA))
    notes: str = ""
    public: bool = False

    @property
    def segments(self) -> list[str]:
        """Path split on '/', without the leading empty part."""
        return self.path.strip("/").split("/")

    @property
    def path_params(self) -> list[str]:
        """Names of the `:placeholders`, in order."""
        return [s[1:] for s in self.segments if s.startswith(":")]

    def match(self, method: str, segments: list[str]) -> dict[str, str] | None:
        """The placeholder values when method and path match, else None."""
        mine = self.segments
        if method != self.method or len(mine) != len(segments):
            return None
        params: dict[str, str] = {}
        for pattern, actual in zip(mine, segments, strict=True):
            if pattern.startswith(":"):
                params[pattern[1:]] = actual
            elif pattern != actual:
                return None
        return params

    def manifest_entry(self) -> dict[str, Any]:
        """The action as /help lists it (`path_params` only when there are placeholders)."""
        entry: dict[str, Any] = {
            "name": self.name,
            "method": self.method,
            "path": self.path,
            "description": self.description,
            "aliases": list(self.aliases),
        }
        if self.path_params:
            entry["path_params"] = self.path_params
        entry["request_schema"] = copy.deepcopy(self.request_schema)  # callers may edit theirs
        if self.notes:
            entry["notes"] = self.notes
        return entry


class Registry:
    """Every action, in registration order."""

    def __init__(self) -> None:
        self.actions: list[Action] = []

    def action(self, name: str, method: str, path: str, description: str, **extra: Any):
        """Decorator registering the wrapped function as the action's handler."""

        def wrap(fn: Callable[..., tuple[int, Any]]) -> Callable[..., tuple[int, Any]]:
            schema = extra.pop("schema", None) or dict(EMPTY_SCHEMA)
            aliases = tuple(extra.pop("aliases", ()))
            self.actions.append(
                Action(name, method, path, description, fn, aliases, schema, **extra)
            )
            return fn

        return wrap

    def resolve(self, method: str, path: str) -> tuple[Action, dict[str, str]] | None:
        """The most specific action (fewest placeholders) matching method and path."""
        segments = path.strip("/").split("/")
        found = [(a, p) for a in self.actions if (p := a.match(method, segments)) is not None]
        if not found:
            return None
        return min(found, key=lambda ap: len(ap[1]))

    def manifest(self, prefix: str | None = None) -> dict[str, Any]:
        """The /help document, optionally narrowed to paths under `prefix`."""
        actions = [a for a in self.actions if _under(a.path, prefix)]
        return {
            "version": "v2",
            "base_path": BASE_PATH,
            "actions": [a.manifest_entry() for a in actions],
        }


def _under(path: str, prefix: str | None) -> bool:
    if not prefix or prefix == "/":
        return True
    prefix = "/" + prefix.strip("/")
    return path == prefix or path.startswith(prefix + "/")


REGISTRY = Registry()
