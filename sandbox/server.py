"""`serve`: run the sandbox with uvicorn in a background thread on a loopback port."""

from __future__ import annotations

import logging
import threading
import time

import uvicorn

from sandbox.asgi import create_app
from sandbox.config import BASE_PATH, SandboxConfig
from sandbox.shop import Shop
from sandbox.shops import Shops


class _QuietSimulatedDrops(logging.Filter):
    """Hide uvicorn's complaint about responses the sandbox cuts off on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


def quiet_simulated_drops() -> None:
    """Install the filter once on uvicorn's error logger (after uvicorn configures logging)."""
    log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietSimulatedDrops) for f in log.filters):
        log.addFilter(_QuietSimulatedDrops())


class RunningSandbox:
    """A live server: `.url` (origin), `.base_url` (API root, every shop's), `.shop` (the first),
    `.shops` (all: `Shops`, names to shops, `.key(name)`), `.stop()`."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, shops: Shops, url: str):
        self._server = server
        self._thread = thread
        self.shops = shops
        self.shop = shops.first
        self.url = url
        self.base_url = url + BASE_PATH

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for its thread."""
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningSandbox(url={self.url!r})"


def serve(
    config_or_shop: SandboxConfig | Shop | Shops | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = 10.0,
) -> RunningSandbox:
    """Start uvicorn in a daemon thread and return once it accepts connections."""
    app = create_app(config_or_shop)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", access_log=False
    )
    quiet_simulated_drops()
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="sandbox-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"sandbox server did not start on {host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return RunningSandbox(server, thread, app.state.shops, f"http://{host}:{bound}")
