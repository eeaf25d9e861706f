"""Shared fakes for the release/charge/sensor tests (no tests here): a shop on a fake clock, a
transport that records every request body, a real DuckDB file synced from the shop, and the
request-log arithmetic behind the exactly-once assertions."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx

import warehouse.schema
from preorders.sync import sync_orders
from sandbox import DEFAULT_API_KEY, FakeClock, SandboxConfig, Shop, mock_transport
from stoq import StoqClient

BASE_URL = "http://sandbox.test/api/v2/external"
SINGLE_RELEASE = re.compile(r"/preorders/orders/(\d+)/release$")
SINGLE_CHARGE = re.compile(r"/preorders/orders/(\d+)/payments/charge_balance$")


@dataclass
class Sent:
    """One request as the client sent it, and what came back (status or exception name)."""

    method: str
    path: str
    body: Any
    status: int | None
    error: str | None


class RecordingTransport(httpx.BaseTransport):
    """Wraps a transport; records each request body; `after(request, sent)` may act on the shop."""

    def __init__(self, inner: httpx.BaseTransport, after: Callable[..., None] | None = None):
        self.inner = inner
        self.after = after
        self.sent: list[Sent] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raw = request.read()
        body = json.loads(raw) if raw.strip() else None
        entry = Sent(request.method, request.url.path, body, None, None)
        self.sent.append(entry)
        try:
            response = self.inner.handle_request(request)
            entry.status = response.status_code
        except httpx.TransportError as exc:
            entry.error = type(exc).__name__
            raise
        finally:
            if self.after is not None:
                self.after(request, entry)
        return response


@dataclass
class World:
    """A shop, its recorded transport, a client and a warehouse file."""

    shop: Shop
    clock: FakeClock
    path: Path
    conn: duckdb.DuckDBPyConnection
    transport: RecordingTransport
    clients: list[StoqClient] = field(default_factory=list)
    syncs: int = 0

    def client(self) -> StoqClient:
        client = StoqClient(
            DEFAULT_API_KEY,
            BASE_URL,
            transport=self.transport,
            sleep=self.clock.sleep,
            clock=self.clock.monotonic,
            wall_clock=self.clock.time,
        )
        self.clients.append(client)
        return client

    def sync(self) -> None:
        """A full orders sync with every fault switched off for its duration."""
        saved = dict(vars(self.shop.chaos.config))
        self.shop.set_chaos({k: 0 for k, v in saved.items() if isinstance(v, float)})
        self.syncs += 1
        with self.client() as client:
            sync_orders(client, self.conn, run_id=f"sync-{self.syncs}", mode="full")
        self.shop.set_chaos(saved)

    def detach(self) -> None:
        """Close the warehouse connection (a read-only opener needs the file free)."""
        self.conn.close()

    def attach(self) -> None:
        """Reopen the warehouse file read-write."""
        self.conn = duckdb.connect(str(self.path))

    def states(self) -> dict[int, str]:
        return {o["id"]: o["state"] for o in self.shop.truth_orders()}

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.conn.close()


def make_world(tmp_path: Path, orders: int = 80, seed: int = 7, **config: Any) -> World:
    clock = FakeClock()
    config.setdefault("rate_limit_points", 1_000_000)
    config.setdefault("job_steps", 2)
    shop = Shop(SandboxConfig(orders=orders, seed=seed, **config), clock=clock)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "warehouse.duckdb"
    conn = duckdb.connect(str(path))
    warehouse.schema.apply(conn)
    world = World(shop, clock, path, conn, RecordingTransport(mock_transport(shop)))
    world.sync()
    return world


def applied(shop: Shop, sent: list[Sent], pattern: re.Pattern[str] = SINGLE_RELEASE) -> Counter:
    """Writes the shop applied per order: single POSTs it answered 2xx (even if the response was
    then dropped) plus, for releases, every bulk_release item a job actually processed."""
    counts: Counter = Counter()
    for entry in shop.log:
        match = pattern.search(entry["path"])
        if entry["method"] == "POST" and match and 200 <= entry["status"] < 300:
            counts[int(match.group(1))] += 1
    if pattern is SINGLE_RELEASE:
        for job in shop.jobs.jobs.values():
            if job.id.startswith("bulk_orders_release_"):
                for order_id in job.items[: job.processed]:
                    counts[int(order_id)] += 1
    return counts


def force_in_bodies(sent: list[Sent]) -> list[Sent]:
    """Requests whose body asked for force (bulk bodies carry an explicit `false`)."""
    return [
        s for s in sent if isinstance(s.body, dict) and s.body.get("force") not in (None, False)
    ]


def single_release_bodies(sent: list[Sent]) -> list[Any]:
    return [s.body for s in sent if s.method == "POST" and SINGLE_RELEASE.search(s.path)]
