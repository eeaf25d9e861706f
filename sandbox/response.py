"""The transport-neutral response the core returns, and helpers that build one."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

FAULTS = (None, "drop", "truncate", "drop_after_apply")


@dataclass
class SandboxResponse:
    """Status, headers and body bytes, plus the fault the adaptor must realise and a delay."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    fault: str | None = None
    delay: float = 0.0

    def json(self) -> Any:
        """The body parsed as JSON (for in-process callers and tests)."""
        return json.loads(self.body)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None):
    """A JSON response with a consistent Content-Length."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return raw_response(status, body, "application/json; charset=utf-8", headers)


def raw_response(
    status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
):
    """Any body with Content-Type and Content-Length set."""
    out = {"Content-Type": content_type, "Content-Length": str(len(body))}
    out.update(headers or {})
    return SandboxResponse(status, out, body)


def errors_response(status: int, messages: list[str], headers: dict[str, str] | None = None):
    """The standard `{"errors": [...]}` envelope."""
    return json_response(status, {"errors": messages}, headers)


def truncated(response: SandboxResponse) -> SandboxResponse:
    """The same response with its body cut roughly in half and Content-Length to match."""
    cut = response.body[: max(0, len(response.body) // 2)]
    headers = dict(response.headers, **{"Content-Length": str(len(cut))})
    return SandboxResponse(response.status, headers, cut, "truncate", response.delay)
