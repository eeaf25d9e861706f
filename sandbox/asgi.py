"""`create_app`: a thin Starlette adaptor over `Shop.handle` that realises faults on the wire."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from sandbox.config import SandboxConfig
from sandbox.shop import Shop
from sandbox.shops import Shops, shop_name


class ShopEndpoint:
    """A raw ASGI app: the wire-level faults need control over what gets sent."""

    def __init__(self, shop: Shop | Shops) -> None:
        self.shop = shop  # a Shop, or Shops routing each request to one of its shops

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        # The shop's lock is a threading lock: keep the event loop free while it works.
        result = await run_in_threadpool(
            self.shop.handle, scope["method"], scope["path"], query, headers, body, _origin(scope)
        )
        if result.delay > 0:
            await asyncio.sleep(result.delay)
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in result.headers.items()]
        await send({"type": "http.response.start", "status": result.status, "headers": raw_headers})
        if result.fault in ("drop", "drop_after_apply"):
            # Content-Length promises the whole body; half of it is sent, then the app returns
            # without finishing, so the server closes the connection mid-message.
            await send(
                {
                    "type": "http.response.body",
                    "body": result.body[: len(result.body) // 2],
                    "more_body": True,
                }
            )
            return
        await send({"type": "http.response.body", "body": result.body})


def _origin(scope: dict[str, Any]) -> str:
    for key, value in scope["headers"]:
        if key == b"host":
            return f"{scope.get('scheme', 'http')}://{value.decode('latin-1')}"
    host, port = scope.get("server") or ("127.0.0.1", 80)
    return f"{scope.get('scheme', 'http')}://{host}:{port}"


def create_app(shop_or_config: Shop | Shops | SandboxConfig | None = None) -> Starlette:
    """The sandbox as an ASGI app; `app.state.shop` is the (first) Shop, `app.state.shops` all."""
    served: Shop | Shops
    if isinstance(shop_or_config, Shops):
        served = shops = shop_or_config
    else:
        served = (
            shop_or_config
            if isinstance(shop_or_config, Shop)
            else Shop(shop_or_config or SandboxConfig())
        )
        shops = Shops({shop_name(1): served})
    app = Starlette(routes=[Route("/{path:path}", endpoint=ShopEndpoint(served))])
    app.state.shop = shops.first
    app.state.shops = shops
    return app
