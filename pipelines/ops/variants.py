"""`bulk_variant_admin` job: submit a bulk job (`preorders.variants`), poll it to the end."""

import dagster as dg
from pydantic import Field

from assets.resources import POOL  # duckdb_writer: one DuckDB writer at a time
from pipelines.ops.poll_job import poll_job
from pipelines.resources import StoqResource, WarehouseResource
from preorders.scrubbing import scrubbed
from preorders.variants import VARIANT_JOBS, submit_variant_job
from stoq import JobHandle


class VariantJobConfig(dg.Config):
    """Which bulk variant job to run, on which variants."""

    action: str = Field(description=f"One of: {', '.join(VARIANT_JOBS)}.")
    variant_ids: list[int] = Field(
        default=[], description="Shopify variant ids; empty means every attached variant."
    )


@dg.op(out=dg.Out(JobHandle), tags={"kind": "stoq"}, pool=POOL)
def submit_variant_action(
    context: dg.OpExecutionContext,
    config: VariantJobConfig,
    stoq: StoqResource,
    warehouse: WarehouseResource,
) -> JobHandle:
    """Submit the bulk variant job (or re-attach to an open one) and persist it first."""
    with (
        scrubbed(stoq.api_key) as redact,
        stoq.client() as client,
        warehouse.get_connection() as conn,
    ):
        try:
            return submit_variant_job(
                client,
                conn,
                config.action,
                config.variant_ids or None,
                run_id=context.run_id,
                log=lambda line: context.log.info(redact(line)),
            )
        except ValueError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc


@dg.job(executor_def=dg.in_process_executor)
def bulk_variant_admin():
    """Recount preorder counts, reset or sync metafields for variants, as a polled STOQ job."""
    poll_job(submit_variant_action())
