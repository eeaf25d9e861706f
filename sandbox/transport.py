"""`mock_transport(shop)`: the in-process httpx transport that tests drive the shop through."""

from __future__ import annotations

import httpx

from sandbox.shop import Shop
from sandbox.shops import Shops


def mock_transport(shop: Shop | Shops) -> httpx.MockTransport:
    """An httpx.MockTransport answering from `shop.handle`, realising faults as httpx sees them.

    Given `Shops`, each request is answered by the shop its X-Auth-Token belongs to.
    """

    def respond(request: httpx.Request) -> httpx.Response:
        url = request.url
        origin = f"{url.scheme}://{url.netloc.decode()}"
        result = shop.handle(
            request.method,
            url.path,
            list(url.params.multi_items()),
            request.headers,
            request.read(),
            origin,
        )
        sleep = getattr(shop.clock, "sleep", None)
        if result.delay > 0 and sleep is not None:
            sleep(result.delay)
        if result.fault == "drop":
            raise httpx.ReadError("sandbox: connection dropped", request=request)
        if result.fault == "drop_after_apply":
            raise httpx.RemoteProtocolError(
                "sandbox: server disconnected without sending a response", request=request
            )
        return httpx.Response(
            result.status, headers=result.headers, content=result.body, request=request
        )

    return httpx.MockTransport(respond)
