"""One request, end to end: budget, auth, retries, and translation of foreign errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from typing import Any

import httpx

from stoq import errors
from stoq.ratelimit import RateBudget, cost_of
from stoq.retry import (
    CONFIGURATION_ERRORS,
    NEVER_SENT,
    RetryPolicy,
    is_retryable_status,
    retry_after,
)
from stoq.stats import StatsRecorder

USER_AGENT = "stoq-preorders/0.1 (+httpx)"
REDACTED = "<redacted>"

_STATUS_ERRORS: dict[int, type[errors.ApiError]] = {
    400: errors.ValidationError,
    401: errors.Unauthorized,
    404: errors.NotFound,
    409: errors.Conflict,
    422: errors.ValidationError,
}


class TokenAuth(httpx.Auth):
    """Adds X-Auth-Token, and only for requests to the API's own origin."""

    def __init__(self, api_key: str, origin: str) -> None:
        self._key = api_key
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # An absolute status_url on another host must not receive the shop's key.
        if origin_of(request.url) == self._origin:
            request.headers["X-Auth-Token"] = self._key
        yield request

    def redact(self, text: str) -> str:
        """The text with any echo of the key blanked out."""
        return text.replace(self._key, REDACTED)

    def __repr__(self) -> str:
        return f"TokenAuth(key={REDACTED})"


def checked_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; ValueError unless it is http(s) with a host."""
    try:
        url = httpx.URL(base_url.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"base_url {base_url!r} is not a URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"base_url {base_url!r} must be an http:// or https:// URL with a host, e.g. "
            "https://app.stoqapp.com/api/v2/external"
        )
    return base_url.strip().rstrip("/")


def origin_of(url: httpx.URL) -> str:
    """scheme://host[:port] of a URL."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


class Session:
    """Sends requests through one httpx.Client under the shared budget and retry policy."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        transport: httpx.BaseTransport | None,
        timeout: float,
        policy: RetryPolicy,
        budget: RateBudget,
        stats: StatsRecorder,
        sleep: Callable[[float], None],
        wall_clock: Callable[[], float],
        max_connections: int,
        max_retry_wait: float,
    ) -> None:
        self.base_url = httpx.URL(base_url)
        self.origin = origin_of(self.base_url)
        self._auth = TokenAuth(api_key, self.origin)
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            auth=self._auth,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=max_connections),
        )
        self._policy = policy
        self._budget = budget
        self._stats = stats
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._max_retry_wait = max_retry_wait

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """Send `method path` and return the parsed JSON body, retrying where it is safe."""
        return self.exchange(method, path, params=params, body=body)[0]

    def exchange(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> tuple[Any, int]:
        """Like `request`, also returning the HTTP status of the answer that was used."""
        write = method.upper() != "GET"
        attempt = 0
        while True:
            response = self._send(method, path, params, body)
            if isinstance(response, Exception):
                exc = response
                reason = self._auth.redact(f"{type(exc).__name__}: {exc}")
                if isinstance(exc, CONFIGURATION_ERRORS):
                    # A bad URL or scheme fails the same way every time: never retried.
                    raise errors.TransportError(f"{method} {path}: {reason} (not retried)") from exc
                if write and not isinstance(exc, NEVER_SENT):
                    raise errors.WriteOutcomeUnknown(method, path, reason) from exc
                if attempt >= self._policy.max_retries:
                    raise errors.TransportError(
                        f"{method} {path}: {reason} (after {attempt + 1} attempts)"
                    ) from exc
                attempt = self._back_off(attempt)
                continue
            self._budget.observe(response.headers)
            status = response.status_code
            if 200 <= status < 300:
                try:
                    return _parse(response), status
                except ValueError as exc:
                    self._stats.add(bad_bodies=1)
                    reason = f"unreadable body after {status}"
                    if write:
                        raise errors.WriteOutcomeUnknown(method, path, reason) from exc
                    if attempt >= self._policy.max_retries:
                        raise errors.TransportError(
                            f"{method} {path}: {reason} (after {attempt + 1} attempts)"
                        ) from exc
                    attempt = self._back_off(attempt)
                    continue
            error = self._error(method, path, response)
            if status == 429:
                self._stats.add(rate_limited=1)
                hint = error.retry_after if isinstance(error, errors.RateLimited) else None
                if hint is not None and hint > self._max_retry_wait:
                    # A day-long Retry-After must not stall every thread silently: the caller
                    # decides (error.retry_after says how long the server asked for).
                    note = (
                        f"asked to wait {hint:.0f}s, over max_retry_wait {self._max_retry_wait:g}s"
                    )
                    messages = [*error.messages, note]
                    raise errors.RateLimited(method, path, status, messages, retry_after=hint)
                # Pausing the shared budget holds every thread back (and the next call), not
                # just this one.
                self._budget.pause(self._policy.rate_limit_wait(attempt, hint))
                if attempt >= self._policy.max_retries:
                    raise error
                self._stats.add(retries=1)
                attempt += 1
                continue
            if status >= 500:
                self._stats.add(server_errors=1)
                if write:
                    raise errors.WriteOutcomeUnknown(method, path, str(error)) from error
            if not is_retryable_status(status) or attempt >= self._policy.max_retries:
                raise error
            attempt = self._back_off(attempt)

    def _send(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any
    ) -> httpx.Response | httpx.TransportError | httpx.InvalidURL:
        """One attempt under the budget; a transport failure or bad URL is returned, not raised."""
        ticket = self._budget.acquire(cost_of(method))
        self._stats.add(
            requests=1,
            points=ticket.cost,
            budget_waits=int(ticket.waited > 0),
            budget_wait_seconds=ticket.waited,
        )
        try:
            return self._http.request(method, path, params=params, json=body)
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            self._stats.add(transport_errors=1)
            return exc
        finally:
            self._budget.settle(ticket)

    def _back_off(self, attempt: int) -> int:
        delay = self._policy.backoff(attempt)
        self._stats.add(retries=1, retry_wait_seconds=delay)
        self._sleep(delay)
        return attempt + 1

    def _error(self, method: str, path: str, response: httpx.Response) -> errors.ApiError:
        status = response.status_code
        try:
            body = _parse(response)
        except ValueError:
            body = None
        messages = [self._auth.redact(m) for m in _messages(body, response)]
        if status == 429:
            wait = retry_after(response, body, self._wall_clock, self._budget.window)
            return errors.RateLimited(method, path, status, messages, retry_after=wait)
        if status >= 500:
            return errors.ServerError(method, path, status, messages)
        return _STATUS_ERRORS.get(status, errors.ApiError)(method, path, status, messages)

    def __repr__(self) -> str:
        return f"Session(base_url={str(self.base_url)!r})"


def _parse(response: httpx.Response) -> Any:
    """The JSON body; an empty body is {} (raises ValueError when it is not JSON)."""
    content = response.content
    if not content.strip():
        return {}
    return json.loads(content)


def _messages(body: Any, response: httpx.Response) -> list[str]:
    """Error text from `{"errors": [...]}`, v1 `{"error", "message"}`, or the raw body."""
    if isinstance(body, dict):
        found = body.get("errors")
        if isinstance(found, list):
            return [str(m) for m in found]
        if isinstance(found, str | dict):
            return [str(found)]
        pair = [str(body[k]) for k in ("error", "message") if body.get(k)]
        if pair:
            return pair
    text = response.text.strip()
    return [text[:200]] if text else []
