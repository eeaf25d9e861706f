"""`export_report` job: submit a report's CSV export, poll it, load the CSV into `export_<name>`.

The work is `preorders.exports` (submit, download, load) and `preorders.jobtracking` (poll).
A run is one shop's: the submit op hands its shop to the poll and the load along with the job, so
the job is polled with the key that submitted it and its CSV replaces that shop's rows only.
"""

import dagster as dg
from pydantic import Field

from assets.resources import POOL  # duckdb_writer: one DuckDB writer at a time
from assets.shops import SHOP_FIELD, op_shop
from pipelines.ops.poll_job import poll_job
from pipelines.resources import StoqResource, WarehouseResource
from preorders.exports import DownloadFailed, ExportRequest, UnknownReport, fetch_and_load, submit
from stoq import JobHandle, JobStatus
from warehouse.exports import KNOWN_REPORTS, export_table


class ExportConfig(dg.Config):
    """Which report to export and its common filters (SPEC §5.2): only what an operator picks.

    The job's polling state (job id, status URL, batch key, kind) never appears here: the submit
    op hands the job to `poll_job` as an output, and the `jobs` table holds the rest.
    """

    report: str = Field(
        description="A report the live catalog lists (GET /preorders/reports), e.g. "
        f"{', '.join(KNOWN_REPORTS)}."
    )
    date_from: str = Field(
        default="",
        description="Window start, inclusive: a date as YYYY-MM-DD (ISO 8601, UTC), e.g."
        " 2026-01-31; empty = the API's default window.",
    )
    date_to: str = Field(
        default="",
        description="Window end, inclusive: a date as YYYY-MM-DD (ISO 8601, UTC), e.g."
        " 2026-02-28; empty = the API's default window.",
    )
    offer_id: str = Field(default="", description="Limit to one offer (UUID); empty = all offers.")
    shop: str = Field(default="", description=SHOP_FIELD)

    def request(self) -> ExportRequest:
        """The validated request."""
        return ExportRequest(
            self.report, self.date_from or None, self.date_to or None, self.offer_id or None
        )


@dg.op(
    out={"handle": dg.Out(JobHandle), "report": dg.Out(str), "shop": dg.Out(str)},
    tags={"kind": "stoq"},
    pool=POOL,
)
def submit_export(
    context: dg.OpExecutionContext,
    config: ExportConfig,
    stoq: StoqResource,
    warehouse: WarehouseResource,
) -> tuple[JobHandle, str, str]:
    """Submit the shop's CSV export (or re-attach to its open one) and persist the job first."""
    try:
        request = config.request()
    except ValueError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    shop = op_shop(context, config.shop)
    settings = stoq.shop_settings(shop)
    with settings.client() as client, warehouse.get_connection() as conn:
        try:
            handle = submit(
                client, conn, request, run_id=context.run_id, log=context.log.info, shop=shop.name
            )
        except UnknownReport as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
    return handle, request.report, shop.name


@dg.op(tags={"kind": "duckdb"}, pool=POOL)
def load_export(
    context: dg.OpExecutionContext,
    warehouse: WarehouseResource,
    status: JobStatus,
    report: str,
    shop: str,
) -> dg.Output[int]:
    """Download the export's CSV (no API key) and replace the shop's rows of `export_<name>`."""
    try:
        with warehouse.get_connection() as conn:
            rows = fetch_and_load(conn, report, status, shop=shop)
    except DownloadFailed as exc:
        raise dg.Failure(description=str(exc)) from exc
    table = export_table(report)
    context.log.info(f"loaded {rows} rows into {table}")
    metadata = {"table": table, "rows": rows, "job_id": status.job_id, "shop": shop}
    return dg.Output(rows, metadata=metadata)


@dg.job(executor_def=dg.in_process_executor)
def export_report():
    """Export one report as CSV through a STOQ job and load it into DuckDB `export_<name>`."""
    handle, report, shop = submit_export()
    load_export(poll_job(handle, shop), report, shop)
