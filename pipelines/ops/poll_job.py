"""`poll_job`: the reusable op that polls a STOQ async job to its end (`preorders.jobtracking`).

The job's handle always arrives as an input, from the op that submitted it (`submit_export`,
`submit_variant_action`) or from `attach_job`, which names a job by hand. So a job's launch form
shows only how patiently to poll, never job ids or status URLs the run itself produces. The
shop arrives the same way (empty: the single shop): a job is polled with the key of the shop that
submitted it and recorded on that shop's `jobs` row.
"""

import dagster as dg
from pydantic import Field

import warehouse.jobs as jobs_table
from assets.resources import POOL  # duckdb_writer: one DuckDB writer at a time
from assets.shops import SHOP_FIELD, op_shop, run_shop
from pipelines.resources import StoqResource, WarehouseResource
from preorders.jobtracking import describe_job_error, track_job
from preorders.progress_lines import Lines
from preorders.scrubbing import scrubbed
from stoq import JobHandle, JobStatus, errors


class PollJobConfig(dg.Config):
    """How patiently to poll."""

    timeout: float = Field(default=600.0, description="Seconds before giving up overall.")
    stall_timeout: float = Field(default=120.0, description="Seconds without progress allowed.")
    initial_interval: float = Field(default=1.0, description="First wait between polls (s).")
    max_interval: float = Field(default=15.0, description="Backoff ceiling between polls (s).")


class AttachJobConfig(dg.Config):
    """A job submitted elsewhere (e.g. seen in `preorders jobs`), to poll in a job of its own."""

    job_id: str = Field(description="The job's id, as the API returned it.")
    status_url: str = Field(description="status_url exactly as the API returned it.")
    kind: str = Field(default="adhoc", description="Job kind recorded for a job not yet saved.")
    batch_key: str = Field(
        default="", description="Batch key for a job not yet saved; empty = the job id."
    )
    shop: str = Field(default="", description=SHOP_FIELD + " The shop that submitted the job.")


@dg.op(out={"handle": dg.Out(JobHandle), "shop": dg.Out(str)}, tags={"kind": "duckdb"}, pool=POOL)
def attach_job(
    context: dg.OpExecutionContext, config: AttachJobConfig, warehouse: WarehouseResource
) -> tuple[JobHandle, str]:
    """The shop's job named in config, saved in `jobs` (a job already there keeps its kind and
    key)."""
    if not config.job_id or not config.status_url:
        raise dg.Failure("attach_job needs both job_id and status_url", allow_retries=False)
    shop = op_shop(context, config.shop)
    handle = JobHandle(job_id=config.job_id, status_url=config.status_url)
    with warehouse.get_connection() as conn:
        jobs_table.save_job(
            conn,
            handle,
            kind=config.kind,
            batch_key=config.batch_key or handle.job_id,
            run_id=context.run_id,
            shop=shop.name,
        )
    return handle, shop.name


@dg.op(out=dg.Out(JobStatus), tags={"kind": "stoq"}, pool=POOL)
def poll_job(
    context: dg.OpExecutionContext,
    config: PollJobConfig,
    stoq: StoqResource,
    warehouse: WarehouseResource,
    handle: JobHandle,
    shop: str = "",
) -> dg.Output[JobStatus]:
    """Poll the shop's STOQ job to completed/ready with backoff, with the shop's key, recording
    every status on its `jobs` row."""
    seen: list[str] = []
    found = run_shop(shop)
    settings = stoq.shop_settings(found)
    with scrubbed(settings.api_key) as redact, settings.client() as client:
        # The CLI's progress lines: the polling's start and end, a status at most every 10 s.
        progress = Lines(lambda line: context.log.info(redact(line)))
        try:
            # The upstream op saved the job (kind, batch key) before handing it over.
            final = track_job(
                client,
                warehouse.get_connection,
                handle,
                run_id=context.run_id,
                timeout=config.timeout,
                stall_timeout=config.stall_timeout,
                initial_interval=config.initial_interval,
                max_interval=config.max_interval,
                on_status=lambda status: seen.append(status.status),
                progress=progress,
                shop=found.name,
            )
        except errors.JobError as exc:
            text, meta = describe_job_error(handle, exc)  # failed, cancelled, timed out, 404
            raise dg.Failure(description=text, metadata=meta, allow_retries=False) from exc
    return dg.Output(
        final,
        metadata={
            "job_id": final.job_id or handle.job_id,
            "status": final.status,
            "polls": len(seen),
            "total": final.total,
            "processed": final.processed,
            # The signed URL itself is a credential; only say whether there is one.
            "download_ready": final.download_url is not None,
        },
    )
