"""`export_report` job: submit a report's CSV export, poll it, load the CSV into `export_<name>`."""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import duckdb
import httpx
from pydantic import Field

from pipelines.ops.poll_job import poll_job
from pipelines.resources import StoqResource, WarehouseResource
from preorders.jobtracking import batch_key, submit_or_attach
from stoq import JobHandle, JobStatus, StoqClient, errors
from warehouse.exports import KNOWN_REPORTS, export_table, load_report


class DownloadFailed(RuntimeError):
    """The signed download URL did not give us the CSV (expired, missing, unreachable)."""


class UnknownReport(ValueError):
    """The live report catalog does not list the report."""


@dataclass(frozen=True)
class ExportRequest:
    """One report export: a well-formed report name (the catalog is checked on submit), filters."""

    report: str
    date_from: str | None = None
    date_to: str | None = None
    offer_id: str | None = None

    def __post_init__(self) -> None:
        export_table(self.report)  # ValueError unless the name may name a table

    @property
    def table(self) -> str:
        """The DuckDB table the export replaces."""
        return export_table(self.report)

    def params(self) -> dict[str, Any]:
        """Keyword arguments for `StoqClient.start_export` (None values are dropped there)."""
        return {"from_": self.date_from, "to": self.date_to, "offer_id": self.offer_id}

    def batch_key(self) -> str:
        """Same report and filters -> same key, so a restarted run re-attaches to its export."""
        return batch_key("export", report=self.report, **self.params())


def submit(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    request: ExportRequest,
    *,
    run_id: str | None = None,
    log: Callable[[str], None] | None = None,
) -> JobHandle:
    """Start the export (UnknownReport unless the live catalog lists it), or re-attach to the
    one a crashed run left open."""

    def start() -> JobHandle:
        require_in_catalog(client, request.report, log=log)
        return client.start_export(request.report, **request.params())

    return submit_or_attach(
        client, conn, request.batch_key(), start, "export", run_id=run_id, log=log
    )


def require_in_catalog(
    client: StoqClient, report: str, *, log: Callable[[str], None] | None = None
) -> None:
    """Raise UnknownReport unless `GET /preorders/reports` lists `report`; only when the catalog
    cannot be read (404, an unexpected body) do the known names stand in for it."""
    try:
        names = sorted(
            {str(r["name"]) for r in client.list_reports() if isinstance(r, dict) and r.get("name")}
        )
        source = "the catalog lists"
    except (errors.NotFound, errors.MalformedResponse) as exc:
        if log is not None:
            log(f"report catalog unavailable ({exc}); checking against the known names")
        names, source = list(KNOWN_REPORTS), "the known reports are"
    if report not in names:
        raise UnknownReport(f"unknown report {report!r}; {source}: {', '.join(names) or 'none'}")


def download_csv(
    url: str, dest: Path, *, transport: httpx.BaseTransport | None = None, timeout: float = 60.0
) -> int:
    """Stream the signed URL to `dest` with a bare client: the API key never goes to it."""
    where = _redacted(url)
    try:
        with (
            httpx.Client(transport=transport, timeout=timeout, follow_redirects=True) as http,
            http.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise DownloadFailed(
                    f"download from {where} answered {response.status_code}"
                    " (a signed URL expires; export again)"
                )
            size = 0
            with dest.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    size += len(chunk)
    except httpx.HTTPError as exc:
        raise DownloadFailed(f"download from {where} failed: {type(exc).__name__}") from exc
    return size


def fetch_and_load(
    conn: duckdb.DuckDBPyConnection,
    report: str,
    status: JobStatus,
    *,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Download a ready export and replace `export_<report>` with it; returns the row count."""
    url = status.download_url
    if url is None:
        raise DownloadFailed(
            f"export job {status.job_id} is {status.status} but has no download URL"
        )
    with tempfile.TemporaryDirectory(prefix="stoq-export-") as tmp:
        path = Path(tmp) / f"{report}.csv"
        download_csv(url, path, transport=transport)
        return load_report(conn, report, path)


class ExportConfig(dg.Config):
    """Which report to export and its common filters (SPEC §5.2)."""

    report: str = Field(
        description="A report the live catalog lists (GET /preorders/reports), e.g. "
        f"{', '.join(KNOWN_REPORTS)}."
    )
    date_from: str = Field(default="", description="Window start (ISO 8601 date), inclusive.")
    date_to: str = Field(default="", description="Window end (ISO 8601 date), inclusive.")
    offer_id: str = Field(default="", description="Limit to one offer (UUID).")

    def request(self) -> ExportRequest:
        """The validated request."""
        return ExportRequest(
            self.report, self.date_from or None, self.date_to or None, self.offer_id or None
        )


@dg.op(out={"handle": dg.Out(JobHandle), "report": dg.Out(str)}, tags={"kind": "stoq"})
def submit_export(
    context: dg.OpExecutionContext,
    config: ExportConfig,
    stoq: StoqResource,
    warehouse: WarehouseResource,
) -> tuple[JobHandle, str]:
    """Submit the CSV export (or re-attach to an open one) and persist the job first."""
    try:
        request = config.request()
    except ValueError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    with stoq.client() as client, warehouse.get_connection() as conn:
        try:
            handle = submit(client, conn, request, run_id=context.run_id, log=context.log.info)
        except UnknownReport as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
    return handle, request.report


@dg.op(tags={"kind": "duckdb"})
def load_export(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, status: JobStatus, report: str
) -> dg.Output[int]:
    """Download the export's CSV (no API key) and replace `export_<name>` with it."""
    try:
        with warehouse.get_connection() as conn:
            rows = fetch_and_load(conn, report, status)
    except DownloadFailed as exc:
        raise dg.Failure(description=str(exc)) from exc
    table = export_table(report)
    context.log.info(f"loaded {rows} rows into {table}")
    return dg.Output(rows, metadata={"table": table, "rows": rows, "job_id": status.job_id})


@dg.job(executor_def=dg.in_process_executor)
def export_report():
    """Export one report as CSV through a STOQ job and load it into DuckDB `export_<name>`."""
    handle, report = submit_export()
    load_export(poll_job(handle), report)


def _redacted(url: str) -> str:
    # The query string carries the signature: never put it in messages or logs.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
