"""Several shops behind one server: each request goes to the shop whose key it carries.

Shop k (1-based) is named `shop<k>` and has the key `shop_key(k)`: shop 1 keeps DEFAULT_API_KEY,
so a client of the single-shop sandbox sees shop 1 unchanged; shop k >= 2 has
`stoq_api_key_sandboxshop<kkk>000…` (the documented prefix and 32 characters). Each shop is a
whole `Shop`: its own seeded data (seed + k - 1), lock, jobs, log and rate-limit window, so a 429
on one key never touches another's budget. With `same_ids` every shop draws its order ids from
the one id seed (the base seed) and holds the same order ids, its other data its own.

Routing: the API by `X-Auth-Token`; a request with no known key goes to shop 1, which serves the
public docs and answers 401 for the rest (logged in shop 1's log, as the single shop does). The
control surface: `/_sandbox/shops` lists the shops, `/_sandbox/shops/<name>/…` is that shop's
`/_sandbox/…`, any other `/_sandbox/…` is shop 1's, and a download goes to the shop that made it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from sandbox.config import DEFAULT_API_KEY, SandboxConfig
from sandbox.response import SandboxResponse, errors_response, json_response
from sandbox.shop import Shop

KEY_PREFIX = "stoq_api_key_"
MAX_SHOPS = 999  # three digits in the key
SHOPS_PREFIX = "/_sandbox/shops"
DOWNLOADS_PREFIX = "/_sandbox/downloads/"


def shop_name(k: int) -> str:
    """The name of shop `k` (1-based): `shop1`, `shop2`, …"""
    return f"shop{k}"


def shop_key(k: int) -> str:
    """The API key of shop `k`: DEFAULT_API_KEY for shop 1, `…sandboxshop<kkk>000…` after it."""
    if not 1 <= k <= MAX_SHOPS:
        raise ValueError(f"shop number must be 1..{MAX_SHOPS}, not {k}")
    if k == 1:
        return DEFAULT_API_KEY
    return KEY_PREFIX + f"sandboxshop{k:03d}".ljust(32, "0")


def shop_keys(n: int) -> list[str]:
    """The keys of shops 1..n, in order."""
    return [shop_key(k) for k in range(1, n + 1)]


def key_env(name: str) -> str:
    """The env var the printed shops file names for a shop's key: `STOQ_API_KEY_SHOP2`."""
    return "STOQ_API_KEY_" + name.upper().replace("-", "_")


def shop_config(k: int, base: SandboxConfig | None = None, same_ids: bool = False) -> SandboxConfig:
    """Shop k's config: `base` with the key `shop_key(k)` and the seed `base.seed + k - 1`.

    Shop 1 keeps `base` as it is (its keys included), so one shop is the single-shop sandbox.
    `same_ids`: every shop's order ids come from the seed `base.seed` (see SandboxConfig).
    """
    base = base or SandboxConfig()
    config = base if k == 1 else replace(base, api_keys=(shop_key(k),), seed=base.seed + k - 1)
    return replace(config, order_id_seed=base.seed) if same_ids else config


def state_path(path: str | os.PathLike[str], k: int) -> Path:
    """Where `--state path` keeps shop k: the file itself for shop 1, `<stem>-shop<k>` after."""
    path = Path(path)
    return path if k == 1 else path.with_name(f"{path.stem}-{shop_name(k)}{path.suffix}")


class Shops:
    """Named shops on one server; `handle` routes like `Shop.handle`. Names and keys are unique."""

    def __init__(self, shops: Mapping[str, Shop]) -> None:
        if not shops:
            raise ValueError("Shops needs at least one shop")
        self.shops = dict(shops)
        self.by_key: dict[str, Shop] = {}
        for name, shop in self.shops.items():
            for key in shop.config.api_keys:
                if key in self.by_key:
                    raise ValueError(f"shop {name!r}: key already belongs to another shop")
                self.by_key[key] = shop
        self.first = next(iter(self.shops.values()))
        self.clock = self.first.clock

    @classmethod
    def seeded(
        cls,
        n: int,
        config: SandboxConfig | None = None,
        clock: Any = None,
        same_ids: bool = False,
        make: Callable[[int, SandboxConfig], Shop] | None = None,
    ) -> Shops:
        """Shops 1..n from `config` (see `shop_config`), on one `clock`.

        `make(k, config)` builds shop k (default: `Shop(config, clock)`), e.g. to keep it in a file.
        """
        if not 1 <= n <= MAX_SHOPS:
            raise ValueError(f"shops: 1..{MAX_SHOPS}, not {n}")
        build = make or (lambda _k, cfg: Shop(cfg, clock))
        return cls(
            {shop_name(k): build(k, shop_config(k, config, same_ids)) for k in range(1, n + 1)}
        )

    def __len__(self) -> int:
        return len(self.shops)

    def __iter__(self) -> Iterator[tuple[str, Shop]]:
        return iter(self.shops.items())

    def __getitem__(self, name: str) -> Shop:
        return self.shops[name]

    def key(self, name: str) -> str:
        """The first key of the named shop (the one to print and to use)."""
        return self.shops[name].config.api_keys[0]

    def handle(
        self,
        method: str,
        path: str,
        query_pairs: list[tuple[str, str]],
        headers: Any,
        body: bytes,
        origin: str,
    ) -> SandboxResponse:
        """Answer one request from the shop it is for (see the module docstring)."""
        if path.startswith("/_sandbox/"):
            return self._control(method, path, query_pairs, headers, body, origin)
        items = headers.items() if hasattr(headers, "items") else headers
        token = next((str(v) for k, v in items if str(k).lower() == "x-auth-token"), "")
        shop = self.by_key.get(token.strip(), self.first)
        return shop.handle(method, path, query_pairs, headers, body, origin)

    def _control(self, method, path, query_pairs, headers, body, origin) -> SandboxResponse:
        if path.rstrip("/") == SHOPS_PREFIX:
            listed = [
                {"name": name, "orders": len(shop.orders), "seed": shop.config.seed}
                for name, shop in self.shops.items()
            ]
            return json_response(200, {"shops": listed})
        if path.startswith(SHOPS_PREFIX + "/"):
            name, _, rest = path.removeprefix(SHOPS_PREFIX + "/").partition("/")
            if name not in self.shops:
                return errors_response(404, [f"No sandbox shop {name!r}"])
            target = "/_sandbox/" + rest
            return self.shops[name].handle(method, target, query_pairs, headers, body, origin)
        shop = self.first
        if path.startswith(DOWNLOADS_PREFIX):
            token = path.removeprefix(DOWNLOADS_PREFIX).removesuffix(".csv")
            shop = next((s for s in self.shops.values() if token in s.downloads), self.first)
        return shop.handle(method, path, query_pairs, headers, body, origin)

    def shops_file(self, base_url: str) -> str:
        """A ready PREORDERS_SHOPS YAML file for these shops at `base_url` (keys by env var)."""
        lines = ["shops:"]
        for name in self.shops:
            lines += [
                f"  - name: {name}",
                f"    api_key_env: {key_env(name)}",
                f"    base_url: {base_url}",
            ]
        return "\n".join(lines) + "\n"

    def export_lines(self) -> list[str]:
        """`export STOQ_API_KEY_SHOP1=…` for every shop: the env vars the shops file names."""
        return [f"export {key_env(name)}={self.key(name)}" for name in self.shops]

    def __repr__(self) -> str:
        return f"Shops({', '.join(self.shops)})"
