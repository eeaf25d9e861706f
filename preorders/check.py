"""`preorders check`: is this machine set up to talk to STOQ? One line per check, in order.

    for result in checks(client_from_env):       # the CLI prints each line as it comes
        print(result.line)
    exit_code(run_checks(client_from_env))       # 0 all passed, 1 a failure, 2 a usage error

The checks, each run only when every one before it passed:

| name       | passes when                                                     | on failure |
| ---------- | --------------------------------------------------------------- | ---------- |
| base_url   | the base URL in force (STOQ_BASE_URL or the default) is https,  | exit 2     |
|            | or plain http to a loopback host                                |            |
| warehouse  | the DuckDB file in force is a file, or is not created yet       | exit 1     |
| key        | STOQ_API_KEY is set (never its value, length or any piece)      | exit 2     |
| request    | `GET /preorders/offers` (page 1, 1 per page) is answered; a 401 | exit 1     |
|            | says STOQ rejected the key, no connection "cannot reach"        |            |
| rate_limit | always: the X-RateLimit-* headers on that answer, or none sent  | -          |
| help       | `GET /help?prefix=/preorders` lists actions                     | exit 1     |
| contract   | that same answer has every action the client calls, at its      | exit 1     |
|            | method and path, with the body fields it sends (no breaking     |            |
|            | drift; preorders.contract)                                      |            |

With a shop (`checks(make_client, shop)`, preorders.shops) the base URL and the key are that
shop's (its `base_url`, its `api_key_env`), and the first line names it; without one, or for the
one `default` shop, the lines are those of STOQ_BASE_URL and STOQ_API_KEY as before shops.

Nothing here reads the key's value into a line; the server's error texts reach a line only
through the client's errors, which are redacted (and the CLI scrubs every line it prints).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from preorders.contract import contract_of
from preorders.settings import NO_KEY, read_key, resolve_base_url, resolve_duckdb_path
from stoq import StoqClient, errors
from stoq.auth import checked_base_url

if TYPE_CHECKING:
    from preorders.shops import Shop

#: The request that proves the key works: the smallest authenticated read every shop answers.
REQUEST = "GET /preorders/offers?page=1&per_page=1"
HELP_PREFIX = "/preorders"
#: Checks whose failure is a usage error (exit 2, like a missing key in every other command).
USAGE_CHECKS = frozenset({"base_url", "key"})


class Check(NamedTuple):
    """One check's verdict: `name` (see the table above), `ok`, and the line to print."""

    name: str
    ok: bool
    line: str


def checks(make_client: Callable[[], StoqClient], shop: Shop | None = None) -> Iterator[Check]:
    """Each check's result in order, ending with the first failure (later checks do not run).

    `make_client()` builds the client for the three online checks; it is called only once the
    offline checks passed, and the client is closed when the iteration ends. `shop`: the shop
    checked (default: the environment's STOQ_BASE_URL and STOQ_API_KEY).
    """
    named = shop if shop is not None and not _is_default(shop) else None
    if named is not None:
        yield Check("shop", True, f"shop: {named.name} (key in {named.api_key_env})")
    offline = (lambda: base_url_check(named), warehouse_check, lambda: key_check(named))
    for check in offline:
        result = check()
        yield result
        if not result.ok:
            return
    with make_client() as client:
        for result in _online(client):
            yield result
            if not result.ok:
                return


def _online(client: StoqClient) -> Iterator[Check]:
    """The online checks in order (lazily: the caller stops at a failure); one /help request."""
    yield request_check(client)
    yield rate_limit_check(client)
    result, manifest = help_check(client)
    yield result
    yield contract_check(manifest)


def run_checks(make_client: Callable[[], StoqClient], shop: Shop | None = None) -> list[Check]:
    """Every result of `checks` in one list."""
    return list(checks(make_client, shop))


def _is_default(shop: Shop) -> bool:
    """The one shop of an unset PREORDERS_SHOPS: its checks read as they did before shops."""
    from preorders.shops import DEFAULT_KEY_ENV, DEFAULT_SHOP

    return shop.name == DEFAULT_SHOP and shop.api_key_env == DEFAULT_KEY_ENV


def exit_code(results: Iterable[Check]) -> int:
    """0 when every check passed, 2 when a usage check failed (base URL, key), else 1."""
    failed = [r for r in results if not r.ok]
    if not failed:
        return 0
    return 2 if failed[0].name in USAGE_CHECKS else 1


# -- offline -----------------------------------------------------------------------------------


def base_url_check(shop: Shop | None = None) -> Check:
    """The base URL in force (the shop's, if one is given), where it came from, and that the
    client's https rule takes it."""
    source = "STOQ_BASE_URL" if os.environ.get("STOQ_BASE_URL") else "default"
    if shop is not None:
        source = f"shop {shop.name}"
    try:
        url = checked_base_url(shop.base_url if shop is not None else resolve_base_url())
    except errors.ConfigurationError as exc:  # its text hides any user:password in the URL
        return Check("base_url", False, f"base URL ({source}): {exc}")
    rule = "https" if url.startswith("https:") else "plain http to a loopback host"
    return Check("base_url", True, f"base URL: {_without_userinfo(url)} ({source}); {rule}")


def warehouse_check() -> Check:
    """The DuckDB file in force, where it came from, and whether it exists yet."""
    path, source = resolve_duckdb_path()
    file = Path(path)
    where = f"warehouse: {file.absolute()} ({source})"
    if file.is_file():
        return Check("warehouse", True, f"{where}; exists, {file.stat().st_size / 2**20:.1f} MiB")
    if file.exists():
        return Check("warehouse", False, f"{where}; exists but is not a file")
    return Check("warehouse", True, f"{where}; not created yet (the first sync creates it)")


def key_check(shop: Shop | None = None) -> Check:
    """Whether STOQ_API_KEY (the shop's key variable, if one is given) is set: never its value,
    nor its length, nor any piece of it."""
    if shop is not None:
        env = shop.api_key_env
        if not shop.key_is_set():
            return Check("key", False, f"API key: {env} is not set; export shop {shop.name}'s key")
        return Check("key", True, f"API key: {env} is set (its value is never shown)")
    if not read_key():
        return Check("key", False, f"API key: {NO_KEY}")
    return Check("key", True, "API key: STOQ_API_KEY is set (its value is never shown)")


# -- online ------------------------------------------------------------------------------------


def request_check(client: StoqClient) -> Check:
    """One authenticated read: page 1 of the offers, one offer per page."""
    try:
        walk = client.list_offers(per_page=1)
        walk.head()
    except errors.Unauthorized as exc:
        return Check("request", False, f"request: STOQ rejected the API key ({exc})")
    except errors.TransportError as exc:  # Unreachable, and every other answer that never came
        where = _without_userinfo(client.base_url)
        return Check("request", False, f"request: cannot reach {where}: {exc}")
    except errors.NotFound as exc:
        hint = "check STOQ_BASE_URL: every shop has this path (the base ends in /api/v2/external)"
        return Check("request", False, f"request: {exc}; {hint}")
    except errors.StoqError as exc:
        return Check("request", False, f"request: {exc}")
    count = walk.stats.total_count_start
    shop = "" if count is None else f"; {count} offer(s) in the shop"
    return Check("request", True, f"request: {REQUEST} answered{shop}")


def rate_limit_check(client: StoqClient) -> Check:
    """The X-RateLimit-* headers on the request's answer, as sent; their absence is no failure."""
    seen = client.rate_limit_headers
    if not seen:
        return Check("rate_limit", True, "rate limit: none sent (no X-RateLimit-* headers)")
    shown = ", ".join(f"{name} {value}" for name, value in seen.items())
    return Check("rate_limit", True, f"rate limit: {shown}")


def help_check(client: StoqClient) -> tuple[Check, dict[str, Any]]:
    """The `/help` manifest under /preorders, and how many actions it lists; and the manifest."""
    try:
        manifest = client.help(prefix=HELP_PREFIX)
    except errors.StoqError as exc:
        return Check("help", False, f"/help: not reachable: {exc}"), {}
    actions = manifest.get("actions")
    if not isinstance(actions, list) or not actions:
        line = f"/help: answered, but lists no actions under {HELP_PREFIX}"
        return Check("help", False, line), manifest
    listed = f"{len(actions)} action{'s' * (len(actions) != 1)}"
    return Check("help", True, f"/help: reachable; {listed} under {HELP_PREFIX}"), manifest


def contract_check(manifest: dict[str, Any]) -> Check:
    """The manifest against every call the client makes: fails on breaking drift only."""
    try:
        contract = contract_of(manifest)
    except errors.MalformedResponse as exc:
        return Check("contract", False, f"contract: {exc}")
    return Check("contract", contract.ok, contract.line())


def _without_userinfo(url: str) -> str:
    """The URL without any user:password part (the base URL may carry one; never print it)."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if sep and "@" in host:
        return f"{scheme}://<redacted>@{host.rpartition('@')[2]}{slash}{path}"
    return url
