"""Track STOQ async jobs in the `jobs` table: submit once, re-attach after a crash, poll, record.

`track_job` polls a handle to its end, recording every status; `track_status_url` does the same
for a bare status_url (`preorders jobs poll`); `describe_job_error` is the one line a failed,
cancelled, timed-out or unknown job is reported with (the `poll_job` op and the CLI).

Every function takes `shop` (default `default`): the shop whose client is passed and whose key
submitted the job. Its `jobs` rows are that shop's (job ids and batch keys are unique per shop
only), so one shop never re-attaches to, polls or records another shop's job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import duckdb

import warehouse.jobs as jobs_table
from preorders.progress import Phase, Progress
from stoq import JobHandle, JobStatus, StoqClient, errors
from stoq.jobs import job_id_from_url
from warehouse.migrate import DEFAULT_SHOP

#: A connection, or a factory of connection contexts (e.g. `WarehouseResource.get_connection`);
#: a factory lets a long poll open the DuckDB file only while it writes (one writer per file).
Connection = (
    duckdb.DuckDBPyConnection | Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
)


def batch_key(kind: str, **parts: Any) -> str:
    """A deterministic key for one batch of work: the kind plus its parameters, sorted."""
    return f"{kind}:{json.dumps(parts, sort_keys=True, separators=(',', ':'), default=str)}"


def submit_or_attach(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    batch_key: str,
    submit: Callable[[], JobHandle],
    kind: str,
    *,
    run_id: str | None = None,
    log: Callable[[str], None] | None = None,
    shop: str = DEFAULT_SHOP,
) -> JobHandle:
    """`shop`'s open job persisted for `batch_key` if the API still knows it, else a new one,
    saved as `shop`'s.

    A run restarted after a crash finds its job here and polls it instead of submitting the
    batch again. A persisted job the API answers 404 for has expired: it is marked so and the
    batch is submitted anew.
    """
    row = jobs_table.find_job(conn, batch_key, shop=shop)
    if row is not None and not jobs_table.is_finished(row):
        if row["kind"] != kind:
            raise ValueError(f"batch key {batch_key!r} belongs to a {row['kind']} job, not {kind}")
        handle = handle_from_row(row)
        try:
            status = client.job_status(handle)
        except errors.JobNotFound as exc:
            jobs_table.record_error(conn, handle.job_id, str(exc), status="not_found", shop=shop)
        else:
            jobs_table.record_status(conn, handle.job_id, status, shop=shop)
            jobs_table.save_job(
                conn, handle, kind=kind, batch_key=batch_key, run_id=run_id, shop=shop
            )
            _say(log, f"re-attached to {kind} job {handle.job_id} ({status.status})")
            return handle
    handle = submit()
    # Saved before the first poll: from here on a crash re-attaches instead of re-submitting.
    jobs_table.save_job(conn, handle, kind=kind, batch_key=batch_key, run_id=run_id, shop=shop)
    _say(log, f"submitted {kind} job {handle.job_id}")
    return handle


def track_job(
    client: StoqClient,
    conn: Connection,
    handle: JobHandle,
    *,
    kind: str = "adhoc",
    batch_key: str | None = None,
    run_id: str | None = None,
    timeout: float = 600,
    stall_timeout: float = 120,
    initial_interval: float = 1.0,
    max_interval: float = 15.0,
    on_status: Callable[[JobStatus], None] | None = None,
    progress: Progress | None = None,
    shop: str = DEFAULT_SHOP,
) -> JobStatus:
    """Poll to completed/ready, recording every status on `shop`'s row; raise the client's Job*
    errors after recording the outcome (JobFailed, JobCancelled, JobTimeout, JobNotFound).

    `kind`/`batch_key` only matter for a job not yet persisted (e.g. one polled from config).
    `progress` hears the polling as a phase `job <id>`, each status with its percent.
    """
    with _connect(conn) as c:
        jobs_table.save_job(
            c, handle, kind=kind, batch_key=batch_key or handle.job_id, run_id=run_id, shop=shop
        )

    phase = Phase(progress, f"job {handle.job_id}", client=client)

    def record(status: JobStatus) -> None:
        with _connect(conn) as c:
            jobs_table.record_status(c, handle.job_id, status, shop=shop)
        phase.job(status.status, status.progress, status.processed, status.total)
        phase.summary = f"status {status.status}"
        if on_status is not None:
            on_status(status)

    try:
        with phase:
            return client.wait_for_job(
                handle,
                timeout=timeout,
                stall_timeout=stall_timeout,
                initial_interval=initial_interval,
                max_interval=max_interval,
                on_status=record,
            )
    except errors.JobNotFound as exc:
        _record_error(conn, handle.job_id, str(exc), status="not_found", shop=shop)
        raise
    except errors.JobTimeout as exc:
        # Still running server-side: the row stays open so a later run can re-attach.
        _record_error(conn, handle.job_id, str(exc), shop=shop)
        raise


def track_status_url(
    client: StoqClient,
    open_conn: Connection,
    status_url: str,
    *,
    timeout: float = 600,
    stall_timeout: float = 120,
    initial_interval: float = 1.0,
    on_status: Callable[[JobStatus], None] | None = None,
    progress: Progress | None = None,
    shop: str = DEFAULT_SHOP,
) -> JobStatus:
    """`track_job` for a job of `shop` known only by its status_url (kind `adhoc` unless already
    saved).

    The job id is the URL's last path segment, as the client names it; a job already in `jobs`
    (submitted by an export or a bulk run) keeps its row, kind and batch key.
    """
    return track_job(
        client,
        open_conn,
        handle_from_status_url(status_url),
        timeout=timeout,
        stall_timeout=stall_timeout,
        initial_interval=initial_interval,
        on_status=on_status,
        progress=progress,
        shop=shop,
    )


def describe_job_error(handle: JobHandle, exc: errors.JobError) -> tuple[str, dict[str, Any]]:
    """One line naming what went wrong (failed, cancelled, timed out/stalled, 404), and metadata."""
    status = exc.status
    meta: dict[str, Any] = {"job_id": handle.job_id, "status_url": handle.status_url}
    if status is not None:
        meta |= {"last_status": status.status, "progress": status.progress}
    if isinstance(exc, errors.JobFailed):
        error = status.error if status is not None else None
        text = f"STOQ job {handle.job_id} failed: {error or 'no error text'}"
    elif isinstance(exc, errors.JobCancelled):
        text = f"STOQ job {handle.job_id} was cancelled by an operator"
    elif isinstance(exc, errors.JobNotFound):
        text = (
            f"STOQ job {handle.job_id} not found (404): its id is unknown or it expired "
            "after finishing; submit the batch again"
        )
    elif isinstance(exc, errors.JobTimeout):
        text = f"STOQ job {handle.job_id} timed out: {exc} (it may still run; re-run to re-attach)"
    else:
        text = f"STOQ job {handle.job_id}: {exc}"
    return text, meta


def may_still_act(
    client: StoqClient,
    conn: Connection,
    handle: JobHandle,
    *,
    shop: str = DEFAULT_SHOP,
    **poll: Any,
) -> tuple[bool, str]:
    """Poll `shop`'s job like `track_job(**poll)`; (whether the job may still act, why) instead
    of raising.

    Only a terminal answer (completed, failed, cancelled, or 404 after the grace: expired) says
    the job is done acting; a timeout, a stall or a failed poll leaves it possibly running.
    """
    try:
        status = track_job(client, conn, handle, shop=shop, **poll)
    except (errors.JobFailed, errors.JobCancelled, errors.JobNotFound) as exc:
        return False, f"bulk job {handle.job_id} ended ({type(exc).__name__})"
    except errors.StoqError as exc:
        return True, f"bulk job {handle.job_id} may still run ({type(exc).__name__})"
    return False, f"bulk job {handle.job_id} {status.status}"


def known_job_may_still_act(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    job_id: str,
    *,
    shop: str = DEFAULT_SHOP,
    **poll: Any,
) -> tuple[bool, str] | None:
    """`may_still_act` for a job `shop` persisted in `jobs` (None when it is not there)."""
    row = jobs_table.get_job(conn, job_id, shop=shop)
    if row is None:
        return None
    if jobs_table.is_finished(row):
        return False, f"bulk job {job_id} ended ({row.get('last_status')})"
    poll.setdefault("kind", row["kind"])
    poll.setdefault("batch_key", row["batch_key"])
    return may_still_act(client, conn, handle_from_row(row), shop=shop, **poll)


def handle_from_row(row: dict[str, Any]) -> JobHandle:
    """Rebuild a JobHandle from a `jobs` row (status_url exactly as the API returned it)."""
    return JobHandle(
        job_id=row["job_id"], status_url=row["status_url"], item_count=row.get("item_count")
    )


def handle_from_status_url(status_url: str, job_id: str = "") -> JobHandle:
    """A JobHandle for a status_url (exactly as the API returned it); the id defaults to the
    URL's last path segment."""
    return JobHandle(job_id=job_id or job_id_from_url(status_url), status_url=status_url)


def _record_error(
    conn: Connection, job_id: str, error: str, status: str | None = None, *, shop: str
) -> None:
    with _connect(conn) as c:
        jobs_table.record_error(c, job_id, error, status=status, shop=shop)


@contextmanager
def _connect(conn: Connection) -> Iterator[duckdb.DuckDBPyConnection]:
    context = nullcontext(conn) if isinstance(conn, duckdb.DuckDBPyConnection) else conn()
    with context as opened:
        yield opened


def _say(log: Callable[[str], None] | None, message: str) -> None:
    if log is not None:
        log(message)
