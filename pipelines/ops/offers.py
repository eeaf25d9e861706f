"""`manage_offer` job: one offer action through `preorders.offers.manage` (SPEC §2.2, §2.4)."""

import dagster as dg
from pydantic import Field

from assets.shops import SHOP_FIELD, op_shop
from pipelines.resources import StoqResource
from preorders.offers import describe_error, manage
from preorders.scrubbing import scrubbed
from stoq import errors


class ManageOfferConfig(dg.Config):
    """Which shop's offer, what to do, and (for variant actions) which Shopify variant ids."""

    shop: str = Field(default="", description=SHOP_FIELD)

    offer_id: str = Field(description="Offer UUID.")
    action: str = Field(description="enable | disable | add_variants | remove_variants")
    variant_ids: list[int] = Field(default=[], description="Shopify variant ids (variant actions).")


@dg.op(tags={"kind": "stoq"})
def apply_offer_action(
    context: dg.OpExecutionContext, config: ManageOfferConfig, stoq: StoqResource
) -> dg.Output[dict]:
    """Perform one lifecycle or variant action on the shop's offer, with the shop's key; metadata
    says what changed."""
    settings = stoq.shop_settings(op_shop(context, config.shop))
    try:
        with scrubbed(settings.api_key), settings.client() as client:
            change = manage(client, config.offer_id, config.action, config.variant_ids)
    except ValueError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    except errors.StoqError as exc:
        text = describe_error(config.offer_id, config.action, exc)
        raise dg.Failure(description=text, allow_retries=False) from exc
    context.log.info(change.summary())
    return dg.Output(change.offer, metadata=change.metadata())


@dg.job(executor_def=dg.in_process_executor)
def manage_offer():
    """Enable, disable, add or remove variants on one offer (run config: offer_id, action)."""
    apply_offer_action()
