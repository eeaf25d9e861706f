"""`bulk_variant_admin` job: submit a bulk variant job (SPEC §4, §7.1) and poll it to the end."""

from collections.abc import Callable

import dagster as dg
import duckdb
from pydantic import Field

from pipelines.ops.poll_job import poll_job
from pipelines.resources import StoqResource, WarehouseResource
from preorders.jobtracking import batch_key, submit_or_attach
from preorders.scrubbing import scrubbed
from stoq import JobHandle, StoqClient

VARIANT_JOBS = (
    "bulk_recalculate_preorder_counts",
    "bulk_reset_metafields",
    "bulk_sync_metafields",
)


def submit_variant_job(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    action: str,
    variant_ids: list[int] | None = None,
    *,
    run_id: str | None = None,
    log: Callable[[str], None] | None = None,
) -> JobHandle:
    """Submit `action` for the variants (None: every attached variant), or re-attach to it."""
    if action not in VARIANT_JOBS:
        raise ValueError(
            f"unknown variant job {action!r}; expected one of {', '.join(VARIANT_JOBS)}"
        )
    ids = sorted(set(variant_ids)) if variant_ids else None
    return submit_or_attach(
        client,
        conn,
        batch_key("bulk_variants", action=action, variant_ids=ids),
        lambda: client.bulk_variant_action(action, ids),
        "bulk_variants",
        run_id=run_id,
        log=log,
    )


class VariantJobConfig(dg.Config):
    """Which bulk variant job to run, on which variants."""

    action: str = Field(description=f"One of: {', '.join(VARIANT_JOBS)}.")
    variant_ids: list[int] = Field(
        default=[], description="Shopify variant ids; empty means every attached variant."
    )


@dg.op(out=dg.Out(JobHandle), tags={"kind": "stoq"})
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
