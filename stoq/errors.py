"""Exceptions raised by the STOQ client.

    StoqError                     base class: catch this to catch everything from stoq/
    +-- ConfigurationError        raised before any request when the base URL or a client setting
    |                             is unusable (also a ValueError); the CLI exits 2 on it
    +-- ApiError                  the server answered with an error status (method, path, status)
    |   +-- Unauthorized          401: missing or invalid X-Auth-Token; never retried
    |   +-- NotFound              404: unknown id or unregistered verb+path
    |   +-- Conflict              409: the state forbids the action; `.hint` says how to unblock
    |   +-- ValidationError       400 / 422: the request was malformed or failed the schema
    |   +-- RateLimited           429 after every retry, or asking a wait over max_retry_wait
    |   +-- ServerError           5xx still returned after every retry (reads only)
    +-- TransportError            no complete answer after every retry: the deadline or size cap
    |   |                         broken, the connection broke mid-answer, a timeout (a write only
    |   |                         when it provably never left), or a URL no retry can cure
    |   +-- Unreachable           the last attempt could not even connect (DNS, refused, unroutable)
    +-- MalformedResponse         a 2xx body that is not JSON after every retry ("malformed response
    |                             from STOQ: ..."), or JSON without the shape the API documents
    +-- WriteOutcomeUnknown       a write whose response was lost: re-read state before retrying
    +-- JobError                  an async job did not finish well (`.status` is the last JobStatus)
        +-- JobFailed             the job reported `failed` (`.status.error` holds the reason)
        +-- JobCancelled          the job reported `cancelled`
        +-- JobTimeout            the job ran past the overall timeout or stalled
        +-- JobNotFound           404 when polling: the job id is unknown or has expired

Messages name the method, path, status and the server's own error text (first 200 characters);
never the API key nor any 8+ character piece of its secret, in them or in their causes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stoq.jobs import JobStatus


class StoqError(Exception):
    """Base class of every error the client raises."""


class ConfigurationError(StoqError, ValueError):
    """Raised before any request when the base URL or a client setting is unusable."""


class ApiError(StoqError):
    """Raised for an error status without a more specific class (e.g. 403, 405)."""

    def __init__(self, method: str, path: str, status: int, messages: list[str]) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.messages = list(messages)
        detail = "; ".join(self.messages) or "no error text"
        super().__init__(f"{method} {path} -> {status}: {detail}")


class Unauthorized(ApiError):
    """Raised on 401: the API key is missing or invalid."""


class NotFound(ApiError):
    """Raised on 404: unknown resource id or no action registered for verb+path."""


class Conflict(ApiError):
    """Raised on 409: the order's derived state forbids the action."""

    @property
    def hint(self) -> str:
        """The server's unblock hint (its error text)."""
        return "; ".join(self.messages)


class ValidationError(ApiError):
    """Raised on 400 or 422: the request failed validation."""


class RateLimited(ApiError):
    """Raised on 429 once every retry is spent, or at once when the server asks for a wait
    longer than the client's `max_retry_wait`; `.retry_after` is the wait it asked for."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        messages: list[str],
        retry_after: float | None = None,
    ) -> None:
        super().__init__(method, path, status, messages)
        self.retry_after = retry_after


class ServerError(ApiError):
    """Raised on 5xx once every retry of a read is spent."""


class TransportError(StoqError):
    """Raised when no complete answer came after every retry (deadline, size cap, broken
    connection, timeout), or at once for a URL a retry cannot cure."""


class Unreachable(TransportError):
    """Raised when, after every retry, the last attempt could not connect at all."""


class MalformedResponse(StoqError):
    """Raised when a 2xx body is not JSON after every retry, or lacks what the API documents
    (list key, meta, record id)."""


class WriteOutcomeUnknown(StoqError):
    """Raised when a write was sent but its response was lost (5xx, timeout, dropped, truncated).

    The server may or may not have applied it: re-read the resource before deciding to retry.
    """

    def __init__(self, method: str, path: str, reason: str) -> None:
        self.method = method
        self.path = path
        self.reason = reason
        super().__init__(
            f"{method} {path}: outcome unknown ({reason}); re-read state before retrying"
        )


class JobError(StoqError):
    """Base class for an async job that did not complete; `.status` is its last JobStatus."""

    def __init__(self, message: str, status: JobStatus | None = None) -> None:
        super().__init__(message)
        self.status = status


class JobFailed(JobError):
    """Raised when a polled job reports `failed`."""


class JobCancelled(JobError):
    """Raised when a polled job reports `cancelled`."""


class JobTimeout(JobError):
    """Raised when a job outlives the poll timeout or its progress stalls."""


class JobNotFound(JobError):
    """Raised when polling answers 404: the job is unknown or expired."""
