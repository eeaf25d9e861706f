"""Shops are configuration: the YAML file named by PREORDERS_SHOPS, else one `default` shop.

    shops = load_shops()                    # every error before any request: ConfigurationError
    shop = pick(shops, args.shop)           # None: the single shop, else an error naming them
    with shop.client() as client:           # the key read from shop.api_key_env now
        ...

The file holds exactly `shops:`, a list of `{name, api_key_env, base_url?, points_per_window?}`.
Keys never live in it: `api_key_env` names the environment variable holding the shop's key.
Without PREORDERS_SHOPS (no default file is read), one shop named `default` from STOQ_API_KEY and
STOQ_BASE_URL, resolved as preorders.settings does, so single-shop set-ups work unchanged (its key
is checked when a client is built, as before). Imports only the standard library at module top.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from stoq import StoqClient

SHOPS_ENV = "PREORDERS_SHOPS"
#: The single shop's name: warehouse.migrate.DEFAULT_SHOP's, restated so that reading the shops
#: file never imports DuckDB (tests/preorders/test_shops_config.py holds the two equal).
DEFAULT_SHOP = "default"
DEFAULT_KEY_ENV = "STOQ_API_KEY"
DEFAULT_POINTS_PER_WINDOW = 360  # STOQ's limit per key (SPEC §1.5), as StoqClient's default
NAME = re.compile(r"[a-z0-9_-]{1,32}")
# Capitals only: a key (lowercase, "stoq_api_key_...") put here by mistake is never echoed.
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")
FIELDS = ("name", "api_key_env", "base_url", "points_per_window")
SECRET_LIKE = re.compile(r"key|token|secret|password", re.IGNORECASE)
KEYS_NOT_HERE = "keys never live in the file: use api_key_env"

Bad = Callable[[str], NoReturn]


@dataclass(frozen=True)
class Shop:
    """One shop: its name, the env var holding its key (never the key), base URL, rate budget."""

    name: str
    api_key_env: str
    base_url: str
    points_per_window: int = DEFAULT_POINTS_PER_WINDOW

    def key_is_set(self, env: Mapping[str, str] | None = None) -> bool:
        """Whether the shop's key variable is set and non-empty now."""
        return bool(self._read_key(env))

    def api_key(self, env: Mapping[str, str] | None = None) -> str:
        """The shop's key read now; MissingKey (exit 2) naming the variable when it is unset."""
        from preorders.settings import NO_KEY, MissingKey

        key = self._read_key(env)
        if not key:
            if self.api_key_env == DEFAULT_KEY_ENV and self.name == DEFAULT_SHOP:
                raise MissingKey(NO_KEY)
            raise MissingKey(f"{self.api_key_env} is not set; export shop {self.name!r}'s API key")
        return key

    def _read_key(self, env: Mapping[str, str] | None) -> str:
        """The key variable's value now, stripped; empty when unset."""
        return (os.environ if env is None else env).get(self.api_key_env, "").strip()

    def client(self, env: Mapping[str, str] | None = None, **options: Any) -> StoqClient:
        """A new client for this shop, key read now (`options`: e.g. `transport=` for tests)."""
        from preorders.settings import StoqSettings

        settings = StoqSettings.from_env(
            self.api_key(env), base_url=self.base_url, points_per_window=self.points_per_window
        )
        return settings.client(**options)


def load_shops(env: Mapping[str, str] = os.environ, *, keys_required: bool = True) -> list[Shop]:
    """The shops configured now; a bad file is a ConfigurationError naming it and the shop.

    `keys_required=False` checks everything but whether each key variable is set: for readers of
    the names alone (Dagster's partitions, on a webserver that may hold no key).
    """
    raw_path = env.get(SHOPS_ENV, "").strip()
    if not raw_path:
        from preorders.settings import resolve_base_url

        return [Shop(DEFAULT_SHOP, DEFAULT_KEY_ENV, resolve_base_url("", env))]
    path = Path(raw_path).expanduser()
    entries = _read(path)
    shops: list[Shop] = []
    for position, entry in enumerate(entries, start=1):
        shop = _shop(path, position, entry, env, keys_required)
        if any(s.name == shop.name for s in shops):
            _fail(path, f"shop {shop.name!r} (#{position}): duplicate name {shop.name!r}")
        shops.append(shop)
    return shops


def pick(shops: list[Shop], name: str | None, *, choose: str = "choose one with --shop") -> Shop:
    """The shop named `name`; without a name, the single shop. Else an error naming the choices
    (`choose` says how this caller names a shop)."""
    from stoq.errors import ConfigurationError

    names = ", ".join(s.name for s in shops)
    if name is None:
        if len(shops) == 1:
            return shops[0]
        raise ConfigurationError(f"several shops are configured ({names}): {choose}")
    for shop in shops:
        if shop.name == name:
            return shop
    raise ConfigurationError(f"no shop named {name!r}; the configured shops are: {names}")


# -- reading and checking the file --------------------------------------------------------------


def _fail(path: Path, problem: str) -> NoReturn:
    from stoq.errors import ConfigurationError

    # from None: a YAML error's own text quotes the file, which may hold a secret by mistake.
    raise ConfigurationError(f"shops file {path} ({SHOPS_ENV}): {problem}") from None


def _read(path: Path) -> list[Any]:
    """The `shops` list of the file; every problem with the file as a whole is named here."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(path, "no such file")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(path, f"cannot be read: {type(exc).__name__}")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # Only the problem and its place: yaml's own text quotes the line.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        _fail(path, f"not YAML: {getattr(exc, 'problem', None) or 'unparsable'}{where}")
    if not isinstance(document, dict) or "shops" not in document:
        _fail(path, "expected a mapping with a `shops:` list")
    for field in document:
        if field != "shops":
            _fail(path, _unknown(field, "at the top level (the file holds only `shops:`)"))
    entries = document["shops"]
    if not isinstance(entries, list):
        _fail(path, "`shops:` must be a list of shops")
    if not entries:
        _fail(path, "`shops:` lists no shop")
    return entries


def _unknown(field: object, where: str) -> str:
    """The message for a field the file may not hold (a key-like one: where keys go instead)."""
    if isinstance(field, str) and SECRET_LIKE.search(field):
        return f"unknown field {field!r} {where}; {KEYS_NOT_HERE}"
    return f"unknown field {field!r} {where}; the fields are: {', '.join(FIELDS)}"


def _shop(
    path: Path, position: int, entry: object, env: Mapping[str, str], keys_required: bool = True
) -> Shop:
    """One entry checked: the shop, or an error naming it (by name, else by position)."""
    label = f"shop #{position}"
    if not isinstance(entry, dict):
        _fail(path, f"{label}: expected a mapping of {', '.join(FIELDS)}")
    name = entry.get("name")
    if isinstance(name, str) and NAME.fullmatch(name):
        label = f"shop {name!r} (#{position})"

    def bad(problem: str) -> NoReturn:
        _fail(path, f"{label}: {problem}")

    for field in entry:
        if field not in FIELDS:
            bad(_unknown(field, "in a shop"))
    if name is None:
        bad("no `name`")
    if not (isinstance(name, str) and NAME.fullmatch(name)):
        bad(f"name {name!r} must match [a-z0-9_-]{{1,32}}")
    key_env = entry.get("api_key_env")
    if key_env is None:
        bad("no `api_key_env` (the name of the environment variable holding the shop's key)")
    if not (isinstance(key_env, str) and ENV_NAME.fullmatch(key_env)):
        example = "STOQ_API_KEY_" + name.upper().replace("-", "_")
        # The value is not shown: it may be the key itself.
        bad(
            f"api_key_env must be the name of an environment variable in capitals, e.g. {example}"
            f" ({KEYS_NOT_HERE})"
        )
    if keys_required and not env.get(key_env, "").strip():
        bad(f"api_key_env {key_env} is not set (or empty); export the shop's API key in it")
    return Shop(
        name=name,
        api_key_env=key_env,
        base_url=_base_url(entry, env, bad),
        points_per_window=_points(entry, bad),
    )


def _base_url(entry: dict[str, Any], env: Mapping[str, str], bad: Bad) -> str:
    """The shop's base URL (else STOQ_BASE_URL, else the production API), https or loopback."""
    from preorders.settings import resolve_base_url
    from stoq.auth import checked_base_url
    from stoq.errors import ConfigurationError

    value = entry.get("base_url")
    if value is not None and not (isinstance(value, str) and value.strip()):
        bad("base_url must be a URL, e.g. https://app.stoqapp.com/api/v2/external")
    source = "base_url" if value else "STOQ_BASE_URL (no base_url given)"
    try:
        return checked_base_url(resolve_base_url(value or "", env))
    except ConfigurationError as exc:
        bad(f"{source}: {exc}")


def _points(entry: dict[str, Any], bad: Bad) -> int:
    """The shop's rate budget in points per window (STOQ charges 2 per write, so at least 2)."""
    points = entry.get("points_per_window", DEFAULT_POINTS_PER_WINDOW)
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        bad(f"points_per_window must be an integer >= 2 (got {points!r})")
    return points
