"""A shop kept in a JSON file, so a later session serves the same shop (ids, states, money).

`SavedShop.open(path, config)` loads the shop from `path` when the file exists, else seeds one from
`config` and writes it. Afterwards it saves itself (whole, atomically) after every request that may
have changed it: any write, any job poll (polls apply a job's items) and, while drift is on, every
read. Saved: the config, offers, variants, customers, orders, the next order id and number, and
the seeded RNG (so ids drawn later are the same). Not saved: jobs, the request log, rate-limit
windows, chaos rolls and export downloads; a job still running when the shop stops is gone (its
poll answers 404, as an expired job does), and the items it had not applied stay unapplied.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

from sandbox.config import ChaosConfig, SandboxConfig
from sandbox.offers import Offer, Variant
from sandbox.orderbook import OrderBook
from sandbox.orders import Customer, LineItem, Order
from sandbox.shop import Shop

FORMAT = "stoq-sandbox-shop/1"
READS = ("GET", "HEAD", "OPTIONS")
#: Config fields that describe the data a shop holds: a loaded shop keeps the file's.
DATA_FIELDS = tuple(
    f.name
    for f in fields(SandboxConfig)
    if f.name in ("seed", "order_id_seed", "orders", "offers", "currencies")
)


class StateFileError(ValueError):
    """Raised when a state file is not one this sandbox wrote (or is from another format)."""


def snapshot(shop: Shop) -> dict[str, Any]:
    """The shop's state as JSON-ready data, copied under the shop's lock."""
    with shop.lock:
        version, internal, gauss = shop.rng.getstate()
        return {
            "format": FORMAT,
            "config": asdict(shop.config),
            "offers": [asdict(o) for o in shop.offers.values()],  # a few: deep copies
            "variants": [_plain(v) for v in shop.variants.values()],
            "customers": [_plain(c) for c in shop.customers],
            "orders": [_order_data(o) for o in reversed(list(shop.orders))],  # oldest first
            "next_id": shop._next_id,
            "next_number": shop._next_number,
            "rng": [version, list(internal), gauss],
        }


def _plain(record: Any) -> dict[str, Any]:
    """A flat record's fields (lists copied); three times quicker than `asdict` on many rows."""
    return {
        f.name: list(v) if isinstance(v := getattr(record, f.name), list) else v
        for f in fields(record)
    }


def _order_data(order: Order) -> dict[str, Any]:
    data = _plain(order)
    data["customer"] = order.customer.id
    data["line_items"] = [_plain(li) for li in order.line_items]
    return data


def config_from_data(data: dict[str, Any]) -> SandboxConfig:
    """The SandboxConfig a snapshot was taken under."""
    raw: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in data["config"].items()
    }
    raw["chaos"] = ChaosConfig(**raw["chaos"])
    return SandboxConfig(**raw)


def restore(shop: Shop, data: dict[str, Any]) -> None:
    """Replace the shop's records (and id counters, RNG) with a snapshot's."""
    if data.get("format") != FORMAT:
        raise StateFileError(f"not a sandbox shop state ({FORMAT}): format {data.get('format')!r}")
    with shop.lock:
        shop.offers = {o["id"]: Offer(**o) for o in data["offers"]}
        shop.variants = {v["id"]: Variant(**v) for v in data["variants"]}
        shop.customers = [Customer(**c) for c in data["customers"]]
        by_id = {c.id: c for c in shop.customers}
        shop.orders = OrderBook()
        for raw in data["orders"]:
            items = [LineItem(**li) for li in raw["line_items"]]
            shop.orders.add(
                Order(**{**raw, "customer": by_id[raw["customer"]], "line_items": items})
            )
        shop._next_id = data["next_id"]
        shop._next_number = data["next_number"]
        version, internal, gauss = data["rng"]
        shop.rng = random.Random()
        shop.rng.setstate((version, tuple(internal), gauss))


def write(shop: Shop, path: str | os.PathLike[str]) -> None:
    """Write the shop to `path` atomically (a temporary file in the same folder, then a rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(snapshot(shop), separators=(",", ":"))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A snapshot from `path`; StateFileError when it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise StateFileError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateFileError(f"{path}: not a sandbox shop state ({FORMAT})")
    return data


class SavedShop(Shop):
    """A Shop kept in a JSON file: see the module docstring. `.path`, `.loaded`, `.save()`."""

    def __init__(
        self, path: str | os.PathLike[str], config: SandboxConfig | None = None, clock: Any = None
    ) -> None:
        self.path = Path(path)
        self.loaded = False
        super().__init__(config, clock)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        config: SandboxConfig | None = None,
        clock: Any = None,
        keep: tuple[str, ...] = DATA_FIELDS,
    ) -> SavedShop:
        """The shop in `path` when it exists, else a new one seeded from `config` (and written).

        When loading, `config` (if given) sets how the shop serves (chaos, rate limit, readings),
        but the fields named in `keep` come from the file: they describe the shop it holds.
        """
        if not Path(path).exists():
            shop = cls(path, config, clock)
            shop.save()
            return shop
        data = read(path)
        try:
            stored = config_from_data(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise StateFileError(f"{path}: a damaged shop state ({exc!r})") from exc
        wanted = config or stored
        wanted = replace(wanted, **{name: getattr(stored, name) for name in keep})
        # Seed nothing (the records come from the file), then serve under the wanted config.
        shop = cls(path, replace(wanted, orders=0, offers=0), clock)
        shop.config = wanted
        try:
            restore(shop, data)
        except (KeyError, TypeError, ValueError) as exc:
            raise StateFileError(f"{path}: a damaged shop state ({exc!r})") from exc
        shop.loaded = True
        return shop

    def save(self) -> None:
        """Write the shop to its file now (under its lock: the last change is the last write)."""
        with self.lock:
            write(self, self.path)

    def handle(self, method, path, query_pairs, headers, body, origin):  # type: ignore[override]
        """Answer as a Shop does, then save when the request may have changed the shop."""
        result = super().handle(method, path, query_pairs, headers, body, origin)
        if self.may_change(method, path):
            self.save()
        return result

    def may_change(self, method: str, path: str) -> bool:
        """Writes, job polls (they apply items) and, with drift on, every request."""
        if method.upper() not in READS or "/jobs/" in path:
            return True
        return self.chaos.config.new_orders_during_walk > 0
