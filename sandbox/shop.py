"""The emulated shop: in-memory state behind one lock, plus the Python control surface."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sandbox import control, dispatch
from sandbox.chaos import Chaos
from sandbox.clock import RealClock
from sandbox.config import BASE_PATH, SandboxConfig
from sandbox.jobs import Job, JobStore
from sandbox.manifest import edited
from sandbox.offers import Offer, Variant
from sandbox.orderbook import OrderBook
from sandbox.orders import Customer, Order
from sandbox.ratelimit import SlidingWindowLimiter
from sandbox.readings import shape_order
from sandbox.registry import REGISTRY
from sandbox.response import SandboxResponse
from sandbox.seed import make_order, seed_catalog, seed_customers, seed_orders

MUTATIONS = ("new_orders", "pay_balances", "release", "cancel", "refund", "fulfill")


class Shop:
    """One fake STOQ shop. `handle` is the whole API; the other methods are test controls."""

    def __init__(self, config: SandboxConfig | None = None, clock: Any = None) -> None:
        self.config = config or SandboxConfig()
        self.clock = clock or RealClock()
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Rebuild every record, job, log and counter from the config and seed."""
        with self.lock:
            cfg = self.config
            now = self.now()
            rng = random.Random(cfg.seed)
            self.offers: dict[str, Offer]
            self.variants: dict[int, Variant]
            self.offers, self.variants = seed_catalog(rng, cfg.offers, now)
            self.customers: list[Customer] = seed_customers(rng, max(20, cfg.orders // 4))
            self.orders = OrderBook()
            for order in seed_orders(
                rng,
                cfg.orders,
                now,
                self.customers,
                self.offers,
                self.variants,
                cfg.currencies,
                cfg.order_id_seed,
            ):
                self.orders.add(order)
            newest = self.orders.newest()
            self._next_id = newest.id if newest else 5512345000000
            self._next_number = 1001 + len(self.orders)
            self.rng = random.Random(cfg.seed + 1)  # ids, mutations and drift
            self.jobs = JobStore(cfg.job_steps, cfg.job_ttl_seconds)
            self.limiter = SlidingWindowLimiter(cfg.rate_limit_points, cfg.rate_limit_window)
            self.chaos = Chaos(cfg.chaos, cfg.seed)
            self.log: list[dict[str, Any]] = []
            self.downloads: dict[str, tuple[bytes, float]] = {}
            self.registry = edited(REGISTRY, cfg.manifest_edits)  # what /help lists and routes

    def now(self) -> float:
        """Unix seconds from the shop's clock."""
        return float(self.clock.time())

    def handle(
        self,
        method: str,
        path: str,
        query_pairs: list[tuple[str, str]],
        headers: Any,
        body: bytes,
        origin: str,
    ) -> SandboxResponse:
        """Answer one HTTP request (API, public docs or `/_sandbox/` control surface)."""
        items = headers.items() if hasattr(headers, "items") else headers
        lowered = {str(k).lower(): str(v) for k, v in items}
        with self.lock:
            if path.startswith("/_sandbox/"):
                return control.handle(self, method.upper(), path, query_pairs, body, origin)
            return dispatch.handle_api(
                self, method.upper(), path, list(query_pairs), lowered, body, origin
            )

    # Helpers the route handlers share.

    def new_hex(self, n: int = 16) -> str:
        """`n` seeded hex digits for job ids and tokens."""
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def status_url(self, rel_path: str, origin: str) -> str:
        """A job status URL, host-relative (default) or absolute per config."""
        path = BASE_PATH + rel_path
        return origin + path if self.config.status_url_style == "absolute" else path

    def render_order(self, order: Order) -> dict[str, Any]:
        """An order as the API renders it under this config's readings."""
        return shape_order(order.render(), self.config)

    def submit_job(self, job: Job) -> Job:
        """Register a job with the store."""
        return self.jobs.submit(job, self.now())

    def create_orders(self, n: int) -> list[Order]:
        """`n` new orders at the head of the newest-first list (enabled offers only)."""
        pool = [o for o in self.offers.values() if o.status == "enabled"] or list(
            self.offers.values()
        )
        now = self.now()
        newest = self.orders.newest()
        created = max(float(int(now)), newest.created_at if newest else 0.0)
        out = []
        for _ in range(n):
            self._next_id += self.rng.randint(1, 997)
            customer = self.rng.choice(self.customers)
            state = self.rng.choice(("placed", "awaiting_balance", "awaiting_balance"))
            order = make_order(
                self.rng,
                self._next_id,
                self._next_number,
                created,
                now,
                customer,
                pool,
                self.variants,
                state,
                self.config.currencies,
            )
            self._next_number += 1
            self.orders.add(order)
            out.append(order)
        return out

    # Python control surface (mirrors /_sandbox/).

    def truth_orders(self) -> list[dict[str, Any]]:
        """Every order as the API renders it, newest first, unpaginated."""
        with self.lock:
            return [self.render_order(o) for o in self.orders]

    def truth_offers(self) -> list[dict[str, Any]]:
        """Every offer (discarded too) as the API renders it, newest first."""
        with self.lock:
            return [o.render() for o in reversed(self.offers.values())]

    def mutate(self, **counts: int) -> dict[str, list[int]]:
        """Seeded drift: new orders, balances paid, releases, cancels, refunds, fulfilments."""
        unknown = sorted(set(counts) - set(MUTATIONS))
        if unknown:
            raise ValueError(f"unknown mutations: {', '.join(unknown)}")
        with self.lock:
            now = self.now()
            out: dict[str, list[int]] = {}
            rules = {
                "pay_balances": (
                    lambda o: o.state in ("placed", "awaiting_balance") and o.outstanding_cents > 0,
                    lambda o: o.charge_balance(now),
                ),
                "release": (lambda o: o.state == "balance_collected", lambda o: o.release(now)),
                "cancel": (
                    lambda o: o.state in ("placed", "awaiting_balance", "balance_collected"),
                    lambda o: o.cancel(now),
                ),
                "refund": (
                    lambda o: o.paid_cents > 0 and o.state not in ("refunded", "cancelled"),
                    lambda o: o.refund(now),
                ),
                "fulfill": (lambda o: o.state == "released", lambda o: o.fulfill(now)),
            }
            for name in MUTATIONS:
                n = int(counts.get(name, 0))
                if n <= 0:
                    continue
                if name == "new_orders":
                    out[name] = [o.id for o in self.create_orders(n)]
                    continue
                eligible, apply = rules[name]
                candidates = sorted(o.id for o in self.orders if eligible(o))
                picked = sorted(self.rng.sample(candidates, min(n, len(candidates))))
                for order_id in picked:
                    apply(self.orders.by_id[order_id])
                out[name] = picked
            return out

    def set_chaos(self, changes: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Change fault settings at runtime; returns the full chaos config."""
        with self.lock:
            self.chaos.config = self.chaos.config.updated({**(changes or {}), **fields})
            self.chaos.burst_left = 0
            return dict(vars(self.chaos.config))

    def edit_manifest(self, edits: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Replace the manifest edits (`[]` restores STOQ's); the records are kept."""
        given = list(edits)
        with self.lock:
            self.registry = edited(REGISTRY, given)  # raises before anything changes
            kept = tuple(dict(e) for e in given)
            self.config = replace(self.config, manifest_edits=kept)
            return {"edits": list(kept), "actions": len(self.registry.actions)}

    def force_job_status(self, job_id: str, status: str, error: str | None = None) -> dict:
        """Operator hook: force a job to failed/cancelled (or any status)."""
        with self.lock:
            return self.jobs.force(job_id, status, self.now(), error).render()

    def count_requests(self, method: str | None = None, path_prefix: str | None = None) -> int:
        """Logged API requests matching a method and a path prefix (with or without the base)."""
        with self.lock:
            return sum(1 for e in self.log if _matches(e, method, path_prefix))


def _matches(entry: dict[str, Any], method: str | None, prefix: str | None) -> bool:
    if method and entry["method"] != method.upper():
        return False
    if not prefix:
        return True
    return entry["path"].startswith(prefix) or entry["path"].startswith(BASE_PATH + prefix)
