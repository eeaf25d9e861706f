"""`release_orders` job: release held, fully paid orders exactly once (`preorders.actions`).

A run is one shop's (`shop` in its config): that shop's client and key, its rows and ledger.
"""

from typing import Any

import dagster as dg
from pydantic import Field

from assets.resources import POOL  # duckdb_writer: one DuckDB writer at a time
from assets.shops import SHOP_FIELD, op_shop
from pipelines.resources import StoqResource, WarehouseResource
from preorders import actions
from preorders.progress_lines import Lines
from preorders.scrubbing import Redact, scrubbed


class ReleaseConfig(dg.Config):
    """Which orders to release and how; a dry run unless dry_run is set to false.

    The launch form's defaults plan and send nothing; the sensor's runs always set shop,
    order_ids and dry_run (its policy) explicitly.
    """

    shop: str = Field(default="", description=SHOP_FIELD)

    order_ids: list[int] = Field(
        default_factory=list, description="Orders to release; empty = every releasable order."
    )
    dry_run: bool = Field(
        default=True,
        description="On by default: write planned ledger rows, release nothing. Set false to"
        " release for real.",
    )
    limit: int = Field(default=0, description="At most this many orders (0 = no limit).")
    force: bool = Field(default=False, description="Skip the balance check; needs a reason.")
    reason: str = Field(default="", description="Why force is used (recorded in the ledger).")
    bulk_threshold: int = Field(
        default=actions.ActionSettings.bulk_threshold,
        description="This many orders or more go out as one bulk_release job.",
    )
    unknown_submission_hold_s: float | None = Field(
        default=None,
        description="Seconds a bulk release whose submission answer was lost keeps its orders"
        " open before they may be judged not applied. Empty: PREORDERS_UNKNOWN_SUBMISSION_HOLD_S"
        " from the environment, else the built-in 3600.",
    )


def outcome_output(
    context: dg.OpExecutionContext, outcomes: list[actions.Outcome], redact: Redact = str
) -> dg.Output[int]:
    """The number that succeeded; logs the summary (what still waits, until when); metadata:
    counts by status, the summary, a line per order (never the key)."""
    summary = redact(actions.summary(outcomes))
    context.log.info(summary)
    # A detail may quote the server's error text: redacted line by line, before any cut.
    lines = "\n".join(f"- {redact(o.line())}" for o in outcomes[:200]) or summary
    metadata = {
        **{k: dg.MetadataValue.int(v) for k, v in actions.counts(outcomes).items()},
        "summary": dg.MetadataValue.text(summary),
        "orders": dg.MetadataValue.md(lines),
    }
    return dg.Output(sum(o.status == "succeeded" for o in outcomes), metadata=metadata)


def run_log(context: dg.OpExecutionContext, redact: Redact) -> actions.Log:
    """The run's log as a line writer, each line redacted (the core's log and progress lines)."""
    return lambda line: context.log.info(redact(line))


def action_settings(
    action: str, hold_s: float | None, field: str, **fields: Any
) -> actions.ActionSettings:
    """ActionSettings with the run config's hold `field` (else the environment's); a bad value
    fails the run at once, naming the field or the variable."""
    try:
        return actions.ActionSettings.from_env(action, hold_s, f"run config {field}", **fields)
    except ValueError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from exc


@dg.op(tags={"kind": "stoq"}, pool=POOL)
def release_held_orders(
    context: dg.OpExecutionContext,
    config: ReleaseConfig,
    stoq: StoqResource,
    warehouse: WarehouseResource,
) -> dg.Output[int]:
    """Settle the shop's open ledger rows, re-read each order, release it (one POST, or one bulk
    job) with the shop's key."""
    shop = op_shop(context, config.shop)
    stoq_settings = stoq.shop_settings(shop)
    settings = action_settings(
        "release",
        config.unknown_submission_hold_s,
        "unknown_submission_hold_s",
        bulk_threshold=config.bulk_threshold,
    )
    with (
        scrubbed(stoq_settings.api_key) as redact,
        stoq_settings.client() as client,
        warehouse.get_connection() as conn,
    ):
        say = run_log(context, redact)
        try:
            outcomes = actions.release(
                client,
                conn,
                config.order_ids or None,
                dry_run=config.dry_run,
                limit=config.limit or None,
                force=config.force,
                reason=config.reason,
                run_id=context.run_id,
                settings=settings,
                log=say,
                progress=Lines(say),
                shop=shop.name,
            )
        except (actions.ForceWithoutReason, actions.ReasonWithoutForce) as exc:
            raise dg.Failure(str(exc), allow_retries=False) from exc
    return outcome_output(context, outcomes, redact)


@dg.job(
    description="Release held, fully paid orders exactly once (ledger: order_actions); dry run"
    " unless dry_run is false.",
    executor_def=dg.in_process_executor,
)
def release_orders() -> None:
    release_held_orders()
