"""A hostile server for the hardening tests: a real loopback HTTP server in front of a sandbox shop.

Every request is answered by the sandbox first; a `fault` then sees the exchange and may return
another answer: a slow (dripped) body, a body that never ends, a lying `meta`, an error that
echoes the request's key, records the warehouse cannot hold. Loops are bounded in time
(`max_seconds`) and the server stops by itself when the test leaves the `with` block.

    with HostileServer(shop, fault=rewrite_json("/preorders/orders", lie)) as server:
        client = StoqClient(key, server.base_url)
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.config import BASE_PATH
from sandbox.shop import Shop


@dataclass
class Answer:
    """What the server sends: status, headers, body, and how it is delivered."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drip: float | None = None  # seconds between single bytes of the body (a slow answer)
    endless: bool = False  # a chunked body that never ends (until the client leaves)
    drip_head: float | None = None  # seconds between single bytes of the status line and headers

    @classmethod
    def of_json(cls, status: int, payload: Any, **kw: Any) -> Answer:
        """A JSON answer."""
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json"}, **kw)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class Exchange:
    """One request as the server saw it, and the sandbox's own answer to it."""

    method: str
    path: str  # below the API base path, e.g. /preorders/orders
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    upstream: Answer
    number: int  # 1 for the server's first request


Fault = Callable[[Exchange], Answer | None]


def rewrite_json(prefix: str, change: Callable[[Exchange, Any], Any]) -> Fault:
    """A fault that passes `change(exchange, payload)` for 2xx JSON answers under `prefix`."""

    def fault(ex: Exchange) -> Answer | None:
        if not ex.path.startswith(prefix) or not 200 <= ex.upstream.status < 300:
            return None
        payload = change(ex, ex.upstream.json())
        return Answer.of_json(ex.upstream.status, payload)

    return fault


class HostileServer:
    """A threaded loopback server: `.base_url`, `.requests` (method, path, query), `.stop()`."""

    def __init__(self, shop: Shop, fault: Fault | None = None, *, max_seconds: float = 60.0):
        self.shop = shop
        self.fault = fault
        self.max_seconds = max_seconds
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.bytes_sent = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.base_url = self.url + BASE_PATH
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End every slow or endless answer and stop serving."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called: answers in progress end."""
        return self._stop.is_set()

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        """The sandbox's answer, then the fault's replacement if it has one."""
        parts = urlsplit(target)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        result = self.shop.handle(method, parts.path, pairs, headers, body, self.url)
        upstream = Answer(result.status, result.body, dict(result.headers))
        path = parts.path.removeprefix(BASE_PATH)
        with self._lock:
            self.requests.append((method, path, dict(pairs)))
            number = len(self.requests)
        if self.fault is None:
            return upstream
        ex = Exchange(method, path, dict(pairs), headers, body, upstream, number)
        return self.fault(ex) or upstream

    def __repr__(self) -> str:
        return f"HostileServer(url={self.url!r})"


def _handler_for(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            pass  # quiet: the tests read server.requests

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = server.answer(self.command, self.path, headers, body)
            # The client giving up mid-answer (OSError: broken pipe, reset) is what tests want.
            with contextlib.suppress(OSError):
                self._send(answer)
            self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def _send(self, answer: Answer) -> None:
            if answer.drip_head is not None:
                self._drip_head(answer)
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Connection", "close")
            started = time.monotonic()

            def going() -> bool:
                return not server.stopping and time.monotonic() - started < server.max_seconds

            if answer.endless:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b'{"orders": [' + b" " * 65536
                while going():
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    server.bytes_sent += len(chunk)
                    chunk = b" " * 65536
                    time.sleep(0.01)
                return
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if answer.drip is None:
                self.wfile.write(answer.body)
                server.bytes_sent += len(answer.body)
                return
            for i in range(len(answer.body)):
                if not going():
                    return
                self.wfile.write(answer.body[i : i + 1])
                self.wfile.flush()
                server.bytes_sent += 1
                time.sleep(answer.drip)

        def _drip_head(self, answer: Answer) -> None:
            """The status line and headers a byte at a time, then the body at once."""
            head = f"HTTP/1.1 {answer.status} OK\r\nContent-Length: {len(answer.body)}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items()) + "\r\n"
            started = time.monotonic()
            for byte in head.encode():
                if server.stopping or time.monotonic() - started >= server.max_seconds:
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                server.bytes_sent += 1
                time.sleep(answer.drip_head)
            self.wfile.write(answer.body)

    return Handler
