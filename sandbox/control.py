"""The `/_sandbox/` control surface: truth, log, mutate, chaos, manifest edits, reset, downloads."""

from __future__ import annotations

import json

from sandbox.response import SandboxResponse, errors_response, json_response, raw_response


def handle(shop, method, path, query_pairs, body: bytes, origin: str) -> SandboxResponse:
    """Serve one control request (no auth, no rate limit, not logged)."""
    sub = path.removeprefix("/_sandbox/")
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError:
        return errors_response(400, ["Malformed JSON body"])
    if method == "GET" and sub == "truth/orders":
        return json_response(200, {"orders": shop.truth_orders()})
    if method == "GET" and sub == "truth/offers":
        return json_response(200, {"offers": shop.truth_offers()})
    if method == "GET" and sub == "log":
        return json_response(200, {"entries": list(shop.log)})
    if method == "POST" and sub == "mutate":
        try:
            return json_response(200, shop.mutate(**payload))
        except (ValueError, TypeError) as exc:
            return errors_response(422, [str(exc)])
    if method == "POST" and sub == "chaos":
        try:
            return json_response(200, shop.set_chaos(payload))
        except (ValueError, TypeError) as exc:
            return errors_response(422, [str(exc)])
    if method == "GET" and sub == "manifest":
        return json_response(200, {"edits": list(shop.config.manifest_edits)})
    if method == "POST" and sub == "manifest":
        try:
            return json_response(200, shop.edit_manifest(payload.get("edits", [])))
        except (ValueError, TypeError, AttributeError) as exc:
            return errors_response(422, [str(exc)])
    if method == "POST" and sub == "reset":
        shop.reset()
        return json_response(200, {"reset": True, "orders": len(shop.orders)})
    if method == "GET" and sub.startswith("downloads/") and sub.endswith(".csv"):
        token = sub.removeprefix("downloads/").removesuffix(".csv")
        found = shop.downloads.get(token)
        if found is None:
            return raw_response(404, b"NoSuchKey", "text/plain")
        data, expires = found
        if shop.now() >= expires:
            return raw_response(403, b"Request has expired", "text/plain")
        return raw_response(200, data, "text/csv; charset=utf-8")
    return errors_response(404, [f"No sandbox control for {method} {path}"])
