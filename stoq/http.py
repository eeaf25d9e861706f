"""One request, end to end: budget, auth, deadline and size cap, retries, and translation of
foreign errors (every text redacted before it leaves)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from stoq import errors
from stoq.auth import TokenAuth, origin_of
from stoq.body import Cut, Limits, checked_limits, messages, parse
from stoq.deadline import deadline_transport, until
from stoq.ratelimit import RateBudget, cost_of
from stoq.retry import (
    CONFIGURATION_ERRORS,
    NEVER_SENT,
    UNREACHABLE,
    RetryPolicy,
    failure_reason,
    is_retryable_status,
    retry_after,
)
from stoq.stats import StatsRecorder
from stoq.waits import OnWait, Wait

USER_AGENT = "stoq-preorders/0.1 (+httpx)"

_STATUS_ERRORS: dict[int, type[errors.ApiError]] = {
    400: errors.ValidationError,
    401: errors.Unauthorized,
    404: errors.NotFound,
    409: errors.Conflict,
    422: errors.ValidationError,
}

# A timeout of these phases, once the deadline has passed, was the deadline's cap firing.
_LATE = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout)


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
        deadline: float = 120.0,
        max_body_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        checked_limits(timeout=timeout, deadline=deadline, max_body_bytes=max_body_bytes)
        self.base_url = httpx.URL(base_url)
        self.origin = origin_of(self.base_url)
        self._auth = TokenAuth(api_key, self.origin)
        self.redactor = self._auth.redactor
        self._timeout = httpx.Timeout(timeout)
        pool = httpx.Limits(max_connections=max_connections)
        self._http = httpx.Client(
            base_url=base_url,
            # The default transport, with every socket wait cut at the attempt's deadline.
            transport=deadline_transport(pool) if transport is None else transport,
            timeout=self._timeout,
            auth=self._auth,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            limits=pool,
            # Never follow a redirect: the answer would come from a host the caller did not name.
            follow_redirects=False,
        )
        self._policy = policy
        self._budget = budget
        self._stats = stats
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._max_retry_wait = max_retry_wait
        self._deadline = deadline
        self._max_body_bytes = max_body_bytes
        self.on_wait: OnWait | None = None  # told of each backoff and budget hold before it starts

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
        url, path = path, self.redactor.clip(path, 500)  # a status_url is the server's text
        attempt = 0
        while True:
            outcome = self._send(method, url, params, body)
            if isinstance(outcome, Exception):
                self._raise_unless_retryable(method, path, outcome, attempt, write)
                attempt = self._back_off(attempt, failure_reason(outcome))
                continue
            response, content = outcome
            self._budget.observe(response.headers)
            status = response.status_code
            if 200 <= status < 300:
                try:
                    return parse(self.redactor.body(content)), status
                except ValueError as exc:
                    bad = exc
                # Raised out here, not in the except block: there the parser's error (its .doc
                # holds the whole body, an echoed key too) would ride along as __context__.
                self._stats.add(bad_bodies=1)
                self._raise_malformed(method, path, status, content, bad, attempt, write)
                attempt = self._back_off(attempt, "malformed answer")
                continue
            error = self._error(method, path, response, content)
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
                self._budget.pause(self._policy.rate_limit_wait(attempt, hint), self.on_wait)
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
            attempt = self._back_off(attempt, failure_reason(status))

    def _raise_unless_retryable(
        self, method: str, path: str, exc: Exception, attempt: int, write: bool
    ) -> None:
        """Raise the client's error for a failed attempt, unless another attempt may cure it."""
        text = str(exc) if isinstance(exc, Cut) else f"{type(exc).__name__}: {exc}"
        reason = self.redactor.clip(text)
        # The cause is a redacted copy: the original chain may hold what the server echoed.
        cause = self.redactor.exception(exc)
        if isinstance(exc, CONFIGURATION_ERRORS):
            # A bad URL or scheme fails the same way every time: never retried.
            raise errors.TransportError(f"{method} {path}: {reason} (not retried)") from cause
        if write and not isinstance(exc, NEVER_SENT):
            raise errors.WriteOutcomeUnknown(method, path, reason) from cause
        if attempt >= self._policy.max_retries:
            kind = errors.Unreachable if isinstance(exc, UNREACHABLE) else errors.TransportError
            raise kind(f"{method} {path}: {reason} (after {attempt + 1} attempts)") from cause

    def _raise_malformed(
        self,
        method: str,
        path: str,
        status: int,
        content: bytes,
        exc: ValueError,
        attempt: int,
        write: bool,
    ) -> None:
        """Raise for a 2xx body that is not JSON, unless a read may try again."""
        reason = f"the {status} answer is not JSON ({self.redactor.clip(str(exc), 80)})"
        cause = self.redactor.exception(exc)
        if write:
            raise errors.WriteOutcomeUnknown(method, path, reason) from cause
        if attempt >= self._policy.max_retries:
            start = self.redactor.clip(content[:400].decode("utf-8", "replace"), 60)
            raise errors.MalformedResponse(
                f"malformed response from STOQ: {method} {path}: {reason}, starting {start!r}"
                f" (after {attempt + 1} attempts)"
            ) from cause

    def _send(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any
    ) -> tuple[httpx.Response, bytes] | Exception:
        """One attempt under the budget: the response and its whole body, or the failure
        (a transport error, a bad URL, or a Cut for a broken deadline or size cap)."""
        ticket = self._budget.acquire(cost_of(method), self.on_wait)
        self._stats.add(
            requests=1,
            points=ticket.cost,
            budget_waits=int(ticket.waited > 0),
            budget_wait_seconds=ticket.waited,
        )
        # The deadline starts after the budget wait: it bounds the exchange, not the queue. It
        # runs on the real monotonic clock, not the injectable one: it bounds real socket waits,
        # and a fake clock moved by other threads' sleeps would cut answers that took no time.
        limits = Limits(self._deadline, self._max_body_bytes)
        try:
            return self._fetch(method, path, params, body, limits)
        except (Cut, httpx.RequestError, httpx.InvalidURL) as exc:
            self._stats.add(transport_errors=1)
            return exc
        finally:
            self._budget.settle(ticket)

    def _fetch(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: Any,
        limits: Limits,
    ) -> tuple[httpx.Response, bytes]:
        timeout = limits.timeout(self._timeout)
        request = self._http.build_request(method, path, params=params, json=body, timeout=timeout)
        with until(limits.left()):  # the status line and headers too, not just the body
            try:
                response = self._http.send(request, stream=True)
            except _LATE as exc:
                if limits.late():  # the wait was capped at the deadline, and that is what fired
                    raise limits.overdue() from exc
                raise
            try:
                return response, limits.read(response)
            except httpx.RequestError as exc:
                if isinstance(exc, _LATE) and limits.late():
                    raise limits.overdue() from exc
                raise Cut(f"the answer broke off midway ({type(exc).__name__}: {exc})") from exc
            finally:
                # Closing mid-body drops the connection: an endless answer is never drained.
                response.close()

    def _back_off(self, attempt: int, reason: str) -> int:
        delay = self._policy.backoff(attempt)
        self._stats.add(retries=1, retry_wait_seconds=delay)
        if self.on_wait is not None:
            retries = self._policy.max_retries
            self.on_wait(Wait("retry", delay, reason, retry=attempt + 1, retries=retries))
        self._sleep(delay)
        return attempt + 1

    def _error(
        self, method: str, path: str, response: httpx.Response, content: bytes
    ) -> errors.ApiError:
        status = response.status_code
        try:
            body = parse(content)
        except ValueError:
            body = None
        texts = messages(body, content, self.redactor)
        if status == 429:
            wait = retry_after(response, body, self._wall_clock, self._budget.window)
            return errors.RateLimited(method, path, status, texts, retry_after=wait)
        if status >= 500:
            return errors.ServerError(method, path, status, texts)
        return _STATUS_ERRORS.get(status, errors.ApiError)(method, path, status, texts)

    def __repr__(self) -> str:
        return f"Session(base_url={str(self.base_url)!r})"
