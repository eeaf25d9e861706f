"""`poll_job`: the reusable op that polls a STOQ async job to its end (`preorders.jobtracking`)."""

import dagster as dg
from pydantic import Field

from pipelines.resources import StoqResource, WarehouseResource
from preorders.jobtracking import describe_job_error, track_job
from preorders.scrubbing import scrubbed
from stoq import JobHandle, JobStatus, errors


class PollJobConfig(dg.Config):
    """Which job to poll (when no upstream op hands one over) and how patiently."""

    job_id: str = Field(default="", description="Job id; only when no handle comes upstream.")
    status_url: str = Field(default="", description="status_url exactly as the API returned it.")
    kind: str = Field(default="adhoc", description="Job kind recorded for a job not yet saved.")
    batch_key: str = Field(default="", description="Batch key for a job not yet saved.")
    timeout: float = Field(default=600.0, description="Seconds before giving up overall.")
    stall_timeout: float = Field(default=120.0, description="Seconds without progress allowed.")
    initial_interval: float = Field(default=1.0, description="First wait between polls (s).")
    max_interval: float = Field(default=15.0, description="Backoff ceiling between polls (s).")


@dg.op(
    ins={"handle": dg.In(dg.Optional[JobHandle], default_value=None)},
    out=dg.Out(JobStatus),
    tags={"kind": "stoq"},
)
def poll_job(
    context: dg.OpExecutionContext,
    config: PollJobConfig,
    stoq: StoqResource,
    warehouse: WarehouseResource,
    handle: JobHandle | None = None,
) -> dg.Output[JobStatus]:
    """Poll a STOQ job to completed/ready with backoff, recording every status in `jobs`."""
    handle = handle or handle_from_config(config)
    seen: list[str] = []

    def log_status(status: JobStatus) -> None:
        if not seen or seen[-1] != status.status:
            context.log.info(f"job {handle.job_id}: {status.status} ({status.progress}%)")
        seen.append(status.status)

    with scrubbed(stoq.api_key), stoq.client() as client:
        try:
            final = track_job(
                client,
                warehouse.get_connection,
                handle,
                kind=config.kind,
                batch_key=config.batch_key or None,
                run_id=context.run_id,
                timeout=config.timeout,
                stall_timeout=config.stall_timeout,
                initial_interval=config.initial_interval,
                max_interval=config.max_interval,
                on_status=log_status,
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


def handle_from_config(config: PollJobConfig) -> JobHandle:
    """The handle named in op config; both job_id and status_url are needed."""
    if not config.job_id or not config.status_url:
        raise dg.Failure(
            "poll_job needs a job handle from an upstream op, or job_id and status_url in config"
        )
    return JobHandle(job_id=config.job_id, status_url=config.status_url)
