"""The API pipeline: public docs, auth, chaos, rate limit, routing, validation, handler, log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sandbox import routes  # noqa: F401  (registers every action)
from sandbox.clock import iso
from sandbox.config import BASE_PATH
from sandbox.errors import ApiError
from sandbox.ratelimit import Verdict
from sandbox.readings import limited
from sandbox.registry import Action, Registry
from sandbox.response import (
    SandboxResponse,
    errors_response,
    json_response,
    raw_response,
    truncated,
)
from sandbox.validation import coerce_query, validate

READ_COST, WRITE_COST = 1, 2


@dataclass
class Request:
    """What a handler sees: path params, typed query, parsed body, the caller's origin."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, Any]
    body: dict[str, Any]
    origin: str


def handle_api(shop, method, path, query_pairs, headers, body, origin) -> SandboxResponse:
    """Run one request under BASE_PATH through the whole pipeline and log it."""
    if not path.startswith(BASE_PATH + "/"):
        return errors_response(404, ["Not found"])
    rel = path[len(BASE_PATH) :]
    response = _pipeline(shop, method, rel, query_pairs, headers, body, origin)
    shop.log.append(
        {
            "time": iso(shop.now()),
            "ts": shop.now(),
            "method": method,
            "path": path,
            "query": urlencode(query_pairs),
            "status": response.status,
            "fault": response.fault,
        }
    )
    return response


def _pipeline(shop, method, rel, query_pairs, headers, body, origin) -> SandboxResponse:
    found = _resolve(shop.registry, method, rel)
    if found and found[0].public:
        return _run(shop, found, method, rel, query_pairs, body, origin, {})
    now = shop.now()
    cfg = shop.config
    key = headers.get("x-auth-token", "")
    if key not in cfg.api_keys:
        # Nothing is charged without a key; the headers describe an untouched window.
        idle = Verdict(True, cfg.rate_limit_points, cfg.rate_limit_points, int(now))
        return errors_response(401, ["Unauthorized"], idle.headers())
    chaos = shop.chaos
    if chaos.drop():
        # The connection dies before the request reaches the app: nothing applied or charged.
        dropped = errors_response(502, ["connection dropped"])
        dropped.fault = "drop"
        return dropped
    cost = READ_COST if method in ("GET", "HEAD") else WRITE_COST
    burst = chaos.burst_429()
    if burst:
        verdict = shop.limiter.peek(key, now)
        limited = Verdict(False, verdict.limit, verdict.remaining, verdict.reset, burst)
        return _too_many(shop, limited)
    verdict = shop.limiter.take(key, cost, now)
    if not verdict.allowed:
        return _too_many(shop, verdict)
    limit_headers = verdict.headers()
    status_5xx = chaos.error_5xx()
    if status_5xx:
        return errors_response(status_5xx, ["Internal server error (sandbox chaos)"], limit_headers)
    if found is None:
        return errors_response(404, [f"No v2 action registered for {method} {rel}"], limit_headers)
    response = _run(shop, found, method, rel, query_pairs, body, origin, limit_headers)
    response.delay = chaos.delay(cfg.latency_ms)
    fault = chaos.after(cost == WRITE_COST, 200 <= response.status < 300)
    if fault == "truncate":
        return truncated(response)
    response.fault = fault
    return response


def _resolve(registry: Registry, method: str, rel: str) -> tuple[Action, dict[str, str]] | None:
    # `<any prefix>/help` narrows the manifest; checked first so it beats `:id` placeholders.
    if method == "GET" and rel.endswith("/help") and rel != "/help":
        help_action = next(a for a in registry.actions if a.name == "help")
        return help_action, {"prefix": rel[: -len("/help")]}
    return registry.resolve(method, rel)


def _run(shop, found, method, rel, query_pairs, body, origin, headers) -> SandboxResponse:
    action, params = found
    try:
        query, payload = _inputs(action, method, query_pairs, body)
        request = Request(method, rel, params, query, payload, origin)
        status, result = action.handler(shop, request)
    except ApiError as exc:
        return errors_response(exc.status, exc.messages, headers)
    if isinstance(result, SandboxResponse):
        result.headers.update(headers)
        return result
    if result is None:  # a write answered with an empty body (write_body="empty")
        return raw_response(status, b"", "application/json; charset=utf-8", headers)
    if isinstance(result, str):
        kind = "text/markdown" if rel.endswith(".md") else "text/plain"
        return raw_response(status, result.encode(), f"{kind}; charset=utf-8", headers)
    return json_response(status, result, headers)


def _inputs(action: Action, method: str, pairs, body: bytes) -> tuple[dict, dict]:
    """Typed query and parsed body, both checked against the action's request_schema."""
    schema = action.request_schema
    if method in ("GET", "HEAD"):
        query, errors = coerce_query(pairs, schema)
        errors = errors or validate(query, schema)
        if errors:
            raise ApiError(422, *errors)
        return query, {}
    if not body.strip():
        payload: Any = {}
    else:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"Malformed JSON body: {exc}") from exc
    errors = validate(payload, schema)
    if errors:
        raise ApiError(422, *errors)
    return {}, payload


def _too_many(shop, verdict: Verdict) -> SandboxResponse:
    cfg = shop.config
    if cfg.rate_limit_body == "errors":
        payload: Any = {"errors": [f"Rate limit exceeded. Retry after {verdict.retry_after} s."]}
    else:
        payload = {
            "error": "Rate limit exceeded",
            "retry_after": verdict.retry_after,
            "message": (
                f"You have exceeded the rate limit of {cfg.rate_limit_points} points per "
                f"{cfg.rate_limit_window:g} seconds. Read requests cost {READ_COST} point(s) and "
                f"write requests cost {WRITE_COST} point(s)."
            ),
        }
    headers, payload = limited(cfg, verdict.headers(), payload, shop.now())
    return json_response(429, payload, headers)
