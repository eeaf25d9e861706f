"""`bulk_variant_admin` job: submit a bulk job (`preorders.variants`), poll it to the end."""

import dagster as dg
from pydantic import Field

from assets.resources import POOL  # duckdb_writer: one DuckDB writer at a time
from assets.shops import SHOP_FIELD, op_shop
from pipelines.ops.poll_job import poll_job
from pipelines.resources import StoqResource, WarehouseResource
from preorders.scrubbing import scrubbed
from preorders.variants import VARIANT_JOBS, submit_variant_job
from stoq import JobHandle


class VariantJobConfig(dg.Config):
    """Which bulk variant job to run, for which shop, on which variants."""

    shop: str = Field(default="", description=SHOP_FIELD)

    action: str = Field(description=f"One of: {', '.join(VARIANT_JOBS)}.")
    variant_ids: list[int] = Field(
        default=[], description="Shopify variant ids; empty means every attached variant."
    )


@dg.op(out={"handle": dg.Out(JobHandle), "shop": dg.Out(str)}, tags={"kind": "stoq"}, pool=POOL)
def submit_variant_action(
    context: dg.OpExecutionContext,
    config: VariantJobConfig,
    stoq: StoqResource,
    warehouse: WarehouseResource,
) -> tuple[JobHandle, str]:
    """Submit the shop's bulk variant job (or re-attach to an open one) and persist it first."""
    shop = op_shop(context, config.shop)
    settings = stoq.shop_settings(shop)
    with (
        scrubbed(settings.api_key) as redact,
        settings.client() as client,
        warehouse.get_connection() as conn,
    ):
        try:
            handle = submit_variant_job(
                client,
                conn,
                config.action,
                config.variant_ids or None,
                run_id=context.run_id,
                log=lambda line: context.log.info(redact(line)),
                shop=shop.name,
            )
        except ValueError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
    return handle, shop.name


@dg.job(executor_def=dg.in_process_executor)
def bulk_variant_admin():
    """Recount preorder counts, reset or sync metafields for variants, as a polled STOQ job."""
    handle, shop = submit_variant_action()
    poll_job(handle, shop)
