"""`collect_balances` job: charge outstanding balances exactly once; a dry run unless told not."""

import dagster as dg
from pydantic import Field

from assets.resources import POOL  # duckdb_writer: one DuckDB writer at a time
from assets.shops import SHOP_FIELD, op_shop
from pipelines.ops.release import action_settings, outcome_output, run_log
from pipelines.resources import StoqResource, WarehouseResource
from preorders import actions
from preorders.progress_lines import Lines
from preorders.scrubbing import scrubbed


class ChargeConfig(dg.Config):
    """Which shop's balances to charge; dry_run is on by default because this moves money."""

    shop: str = Field(default="", description=SHOP_FIELD)

    offer_id: str = Field(default="", description="Only orders of this offer (UUID).")
    order_ids: list[int] = Field(
        default_factory=list, description="Orders to charge; empty = every awaiting_balance order."
    )
    limit: int = Field(default=0, description="At most this many orders (0 = no limit).")
    dry_run: bool = Field(
        default=True,
        description="On by default: write planned ledger rows, charge nothing. Set false to"
        " charge for real.",
    )
    charge_pending_hold_s: float | None = Field(
        default=None,
        description="Seconds a charge STOQ accepted but has not applied yet stays open (read back"
        " each run) before it is judged not applied. Empty: PREORDERS_CHARGE_PENDING_HOLD_S from"
        " the environment, else the built-in 3600.",
    )


@dg.op(tags={"kind": "stoq"}, pool=POOL)
def charge_balances(
    context: dg.OpExecutionContext,
    config: ChargeConfig,
    stoq: StoqResource,
    warehouse: WarehouseResource,
) -> dg.Output[int]:
    """Settle the shop's open charge rows, re-read each order, charge its balance once with the
    shop's key (read-back on loss)."""
    shop = op_shop(context, config.shop)
    stoq_settings = stoq.shop_settings(shop)
    hold = config.charge_pending_hold_s
    settings = action_settings("charge_balance", hold, "charge_pending_hold_s")
    with (
        scrubbed(stoq_settings.api_key) as redact,
        stoq_settings.client() as client,
        warehouse.get_connection() as conn,
    ):
        say = run_log(context, redact)
        outcomes = actions.charge(
            client,
            conn,
            config.order_ids or None,
            offer_id=config.offer_id or None,
            dry_run=config.dry_run,
            limit=config.limit or None,
            run_id=context.run_id,
            settings=settings,
            log=say,
            progress=Lines(say),
            shop=shop.name,
        )
    return outcome_output(context, outcomes, redact)


@dg.job(
    description="Charge awaiting balances exactly once (ledger: order_actions); dry run default.",
    executor_def=dg.in_process_executor,
)
def collect_balances() -> None:
    charge_balances()
