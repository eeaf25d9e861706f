"""A local emulator of the STOQ Preorders v2 API for the demo, the tests and the benchmarks."""

from sandbox.asgi import create_app
from sandbox.clock import FakeClock, RealClock
from sandbox.config import BASE_PATH, DEFAULT_API_KEY, ChaosConfig, SandboxConfig
from sandbox.response import SandboxResponse
from sandbox.server import RunningSandbox, serve
from sandbox.shop import Shop
from sandbox.shops import Shops, shop_key, shop_keys, shop_name
from sandbox.transport import mock_transport

__all__ = [
    "BASE_PATH",
    "DEFAULT_API_KEY",
    "ChaosConfig",
    "FakeClock",
    "RealClock",
    "RunningSandbox",
    "SandboxConfig",
    "SandboxResponse",
    "Shop",
    "Shops",
    "create_app",
    "mock_transport",
    "serve",
    "shop_key",
    "shop_keys",
    "shop_name",
]
