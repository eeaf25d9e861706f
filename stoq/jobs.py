"""Async job handles, statuses and polling (SPEC §4, §8.14-8.15)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from stoq import errors

if TYPE_CHECKING:
    from stoq.http import Session

DONE = frozenset({"completed", "ready"})
TERMINAL = DONE | {"failed", "cancelled"}


@dataclass(frozen=True)
class JobHandle:
    """A job submission's 202 answer: poll `status_url` exactly as given."""

    job_id: str
    status_url: str
    item_count: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, body: Any) -> JobHandle:
        """Build from the submission body; `order_count`/`variant_count` become item_count."""
        if not isinstance(body, dict) or not body.get("job_id") or not body.get("status_url"):
            raise errors.MalformedResponse("job submission lacks job_id or status_url")
        count = body.get("order_count", body.get("variant_count"))
        return cls(
            job_id=str(body["job_id"]),
            status_url=str(body["status_url"]),
            item_count=count if isinstance(count, int) else None,
            raw=body,
        )


@dataclass(frozen=True)
class JobStatus:
    """One poll of a job: status plus progress (0-100), total and processed item counts."""

    job_id: str
    status: str
    progress: float | None = None
    total: int | None = None
    processed: int | None = None
    error: Any = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def terminal(self) -> bool:
        """True once the job can no longer change."""
        return self.status in TERMINAL

    @property
    def download_url(self) -> str | None:
        """The first `*_url` field (other than status_url) holding an http(s) URL."""
        for key, value in self.raw.items():
            if (
                key.endswith("_url")
                and key != "status_url"
                and isinstance(value, str)
                and value.startswith(("http://", "https://"))
            ):
                return value
        return None

    @classmethod
    def parse(cls, body: Any) -> JobStatus:
        """Build from a status_url body."""
        if not isinstance(body, dict) or not isinstance(body.get("status"), str):
            raise errors.MalformedResponse("job status lacks a status")
        return cls(
            job_id=str(body.get("job_id", "")),
            status=body["status"],
            progress=_number(body.get("progress")),
            total=_count(body.get("total")),
            processed=_count(body.get("processed")),
            error=body.get("error"),
            raw=body,
        )


def _number(value: Any) -> float | None:
    """A JSON number that is finite, as a float; None for anything else ('50%', NaN, a list):
    a progress is shown and stored as a number, so text would break both."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):  # kept an int: 100 shows as 100%, not 100.0%
        return value if abs(value) < 2**63 else None
    return value if isinstance(value, float) and math.isfinite(value) else None


def _count(value: Any) -> int | None:
    """A whole count of items (a JSON integer, not negative, within BIGINT), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return value
    return None


def resolve_status_url(origin: str, status_url: str) -> str:
    """Host-relative URLs hang off the API origin (not the base path); absolute ones stay."""
    if status_url.startswith(("http://", "https://")):
        return status_url
    if not status_url.startswith("/"):
        raise errors.MalformedResponse(
            f"status_url must be absolute or start with '/': {status_url!r}"
        )
    return origin + status_url


def job_id_from_url(status_url: str) -> str:
    """The last path segment of a status URL (`.../jobs/<job_id>`): the id when nothing says."""
    return urlsplit(status_url).path.rstrip("/").rsplit("/", 1)[-1]


def poll(
    fetch: Callable[[], JobStatus],
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    timeout: float,
    stall_timeout: float,
    initial_interval: float,
    max_interval: float,
    on_status: Callable[[JobStatus], None] | None = None,
    job_id: str = "",
    not_found_grace: float = 0.0,
) -> JobStatus:
    """Poll until the job is done; raise JobFailed/JobCancelled/JobTimeout/JobNotFound otherwise.

    A 404 (JobNotFound from `fetch`) within `not_found_grace` s of the first poll means "not
    visible yet": poll on, reporting nothing to `on_status`. When the timeout comes first and
    only 404s were seen, that is JobNotFound, not JobTimeout. `job_id` names the job when a
    status body does not.
    """
    start = last_change = clock()
    interval = initial_interval
    marker: tuple[Any, Any] | None = None
    seen: JobStatus | None = None
    while True:
        try:
            status = fetch()
        except errors.JobNotFound as exc:
            elapsed = clock() - start
            if elapsed >= not_found_grace:
                raise
            if elapsed >= timeout:
                if seen is None:
                    raise errors.JobNotFound(
                        f"job {job_id} is unknown or expired: only 404s in {elapsed:.0f}s"
                    ) from exc
                raise errors.JobTimeout(
                    f"job {seen.job_id} still {seen.status} after {timeout:.0f}s", seen
                ) from exc
            sleep(min(interval, timeout - elapsed))
            interval = min(interval * 2, max_interval)
            continue
        else:
            if not status.job_id and job_id:
                status = replace(status, job_id=job_id)
            seen = status
            if on_status is not None:
                on_status(status)
        if status.status in DONE:
            return status
        if status.status == "failed":
            raise errors.JobFailed(f"job {status.job_id} failed: {status.error}", status)
        if status.status == "cancelled":
            raise errors.JobCancelled(f"job {status.job_id} was cancelled", status)
        now = clock()
        if (status.progress, status.processed) != marker:
            marker = (status.progress, status.processed)
            last_change = now
        elif now - last_change >= stall_timeout:
            raise errors.JobTimeout(
                f"job {status.job_id} stalled: no progress for {now - last_change:.0f}s "
                f"(status {status.status}, progress {status.progress})",
                status,
            )
        left = timeout - (now - start)
        if left <= 0:
            raise errors.JobTimeout(
                f"job {status.job_id} still {status.status} after {timeout:.0f}s", status
            )
        sleep(min(interval, left))
        interval = min(interval * 2, max_interval)


def read_status(session: Session, status_url: str) -> JobStatus:
    """One poll of `status_url` through `session`, every server text redacted; 404 (unknown or
    expired) raises JobNotFound."""
    scrub = session.redactor  # a job's texts are the server's: they may echo the key
    try:
        url = resolve_status_url(session.origin, status_url)
        status = JobStatus.parse(session.request("GET", url))
        return scrub.fields(status, "job_id", "status", "error")
    except errors.NotFound as exc:
        shown = scrub.clip(status_url)
        raise errors.JobNotFound(f"job at {shown} is unknown or expired") from exc
    except errors.MalformedResponse as exc:  # it may quote the status_url
        malformed = scrub.exception(exc)
    raise malformed  # raised outside `except`: the unredacted original is not its context
