"""Where the API key may go: https base URLs (plain http only to loopback), the API's origin."""

from __future__ import annotations

import ipaddress
from collections.abc import Generator

import httpx

from stoq.errors import ConfigurationError
from stoq.redact import REDACTED, Redactor

EXAMPLE_URL = "https://app.stoqapp.com/api/v2/external"
LOOPBACK_RULE = "plain http only to 127.0.0.0/8, ::1 or localhost"


class TokenAuth(httpx.Auth):
    """Adds X-Auth-Token, and only for requests to the API's own origin."""

    def __init__(self, api_key: str, origin: str) -> None:
        self._key = api_key
        self._origin = origin
        self.redactor = Redactor(api_key)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # An absolute status_url on another host (or scheme) must not receive the shop's key.
        if origin_of(request.url) == self._origin:
            request.headers["X-Auth-Token"] = self._key
        yield request

    def redact(self, text: str) -> str:
        """The text with the key, and every 8+ character piece of its secret, blanked out."""
        return self.redactor.redact(text)

    def __repr__(self) -> str:
        return f"TokenAuth(key={REDACTED})"


def checked_base_url(base_url: str, transport: httpx.BaseTransport | None = None) -> str:
    """The base URL without a trailing slash; ConfigurationError unless it is https with a host,
    or plain http to a loopback host (to any host over a transport of the caller's own)."""
    shown = _shown(base_url)
    try:
        url = httpx.URL(base_url.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError(f"base_url {shown!r} is not a URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"base_url {shown!r} must be an http:// or https:// URL with a host, e.g. {EXAMPLE_URL}"
        )
    # A transport of the caller's own (httpx.MockTransport, the in-process sandbox) puts nothing
    # on a network, so only the default or an httpx.HTTPTransport is held to the https rule.
    over_network = transport is None or isinstance(transport, httpx.HTTPTransport)
    if url.scheme == "http" and over_network and not is_loopback(url.host):
        raise ConfigurationError(
            f"base_url {shown} sends the API key in clear: use https:// ({LOOPBACK_RULE})"
        )
    return base_url.strip().rstrip("/")


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the key never leaves the machine."""
    # Exactly "localhost": "localhost." is a fully qualified name that DNS resolves, not hosts.
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_of(url: httpx.URL) -> str:
    """scheme://host[:port] of a URL."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def _shown(base_url: object) -> str:
    """The base URL for a message, without any user:password part."""
    text = str(base_url).strip()
    scheme, sep, rest = text.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://<redacted>@{rest.split('@', 1)[1]}"
    return text
