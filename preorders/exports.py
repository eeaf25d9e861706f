"""Report exports (SPEC §5.2): submit a CSV export once, download it, load `export_<name>`.

`submit` starts the export (after checking the live catalog) or re-attaches to the one a
crashed run left open, saving the job in `jobs` first; polling is `preorders.jobtracking`;
`fetch_and_load` downloads the signed URL with a bare client (the API key never goes there) and
replaces the table. The `export_report` job and `preorders export` both call them.

`shop` (default `default`) names the shop whose client is passed: its job is that shop's `jobs`
row, and its CSV replaces that shop's rows of `export_<name>` only (`warehouse.exports`).
"""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import httpx

from preorders.jobtracking import batch_key, submit_or_attach
from stoq import JobHandle, JobStatus, StoqClient, errors
from warehouse.exports import KNOWN_REPORTS, export_table, load_report
from warehouse.migrate import DEFAULT_SHOP


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
    shop: str = DEFAULT_SHOP,
) -> JobHandle:
    """Start `shop`'s export (UnknownReport unless the live catalog lists it), or re-attach to
    the one a crashed run of that shop left open."""

    def start() -> JobHandle:
        require_in_catalog(client, request.report, log=log)
        return client.start_export(request.report, **request.params())

    return submit_or_attach(
        client, conn, request.batch_key(), start, "export", run_id=run_id, log=log, shop=shop
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
    shop: str = DEFAULT_SHOP,
) -> int:
    """Download a ready export and replace `shop`'s rows of `export_<report>` with it; returns
    `shop`'s row count."""
    url = status.download_url
    if url is None:
        raise DownloadFailed(
            f"export job {status.job_id} is {status.status} but has no download URL"
        )
    with tempfile.TemporaryDirectory(prefix="stoq-export-") as tmp:
        path = Path(tmp) / f"{report}.csv"
        download_csv(url, path, transport=transport)
        return load_report(conn, report, path, shop=shop)


def _redacted(url: str) -> str:
    # The query string carries the signature: never put it in messages or logs.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
