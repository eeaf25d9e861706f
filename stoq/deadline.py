"""An attempt's deadline at the socket: no read, write or TLS step waits past it.

httpx applies its timeouts to each socket operation, not to the exchange. body.Limits watches the
body between chunks, but the status line and headers are read inside `Client.send`: a server
that drips them a byte at a time, each byte within the read timeout, would hold an attempt for
as long as it liked. The default transport's connections go through DeadlineStream, which caps
every wait at the deadline the calling thread set with `until()` (sync httpx does its socket
work in the thread that sent the request), and fails an operation that starts past it.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

_local = threading.local()


@contextlib.contextmanager
def until(seconds_left: float) -> Iterator[None]:
    """Within the block, this thread's socket waits end `seconds_left` from now at the latest."""
    before = getattr(_local, "at", None)
    _local.at = time.monotonic() + seconds_left
    try:
        yield
    finally:
        _local.at = before


def _capped(timeout: float | None, late: type[Exception]) -> float | None:
    """`timeout` cut to the time left before this thread's deadline; `late` once it has passed."""
    at = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise late("the attempt's deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every wait ends by the calling thread's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _capped(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _capped(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        capped = _capped(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, capped))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own sync backend, its streams wrapped in DeadlineStream."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        capped = _capped(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(
            self._inner.connect_tcp(host, port, capped, local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        capped = _capped(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.connect_unix_socket(path, capped, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport(limits: httpx.Limits) -> httpx.HTTPTransport | None:
    """The default transport (what httpx.Client makes), its connections under `until()`; None
    when the environment names a proxy (HTTP(S)_PROXY, ALL_PROXY): httpx mounts its proxy
    transports only for a client given none of ours, and a proxy must keep working, so there
    the deadline bounds the body alone, as before.

    httpx (pinned) takes no network backend, so it is set on the transport's connection pool;
    should a later httpx not have one there, the transport is returned as it is (the test of a
    dripped head would then fail).
    """
    if any(urllib.request.getproxies().get(scheme) for scheme in ("http", "https", "all")):
        return None
    made = httpx.HTTPTransport(limits=limits)
    pool = getattr(made, "_pool", None)
    if isinstance(pool, httpcore.ConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = DeadlineBackend()
    return made
