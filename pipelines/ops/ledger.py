"""`review_actions` and `settle_action` jobs: the order_actions ledger from Dagster.

The same core as `preorders actions` and `preorders actions settle`: no key and no request, the
warehouse alone. Both are one shop's (`shop` in the config) and refuse a warehouse where that
shop's orders never synced.
"""

from enum import Enum

import dagster as dg
import duckdb
from pydantic import Field

from assets.resources import POOL  # duckdb_writer: one DuckDB writer at a time
from assets.shops import SHOP_FIELD, op_shop
from pipelines.resources import WarehouseResource
from preorders.actions import operator, review
from preorders.actions.rules import ActionSettings
from preorders.status import NeverSynced, require_synced


class Verdict(Enum):
    """The operator's verdict (the launch form shows it as a choice)."""

    applied = "applied"
    not_applied = "not-applied"


class ReviewConfig(dg.Config):
    """Which ledger rows to list."""

    statuses: list[str] = Field(
        default_factory=list,
        description="Only these statuses (open, sent, unknown, failed, blocked); empty = all.",
    )
    shop: str = Field(default="", description=SHOP_FIELD)


class SettleConfig(dg.Config):
    """One row and the operator's verdict; nothing has a default but `by`."""

    key: str = Field(description="The row's key, as review_actions or `preorders actions` shows.")
    verdict: Verdict = Field(
        description="applied: it took effect in STOQ (closes the row); not-applied: it did not"
        " (the order may go out again on the next run, with a new key)."
    )
    reason: str = Field(description="Why: recorded in the ledger next to the row.")
    by: str = Field(default="", description="Who settles it. Empty: the run's launching user.")
    shop: str = Field(default="", description=SHOP_FIELD + " The shop whose ledger holds the row.")


@dg.op(tags={"kind": "duckdb"}, pool=POOL)
def review_ledger(
    context: dg.OpExecutionContext, config: ReviewConfig, warehouse: WarehouseResource
) -> dg.Output[int]:
    """List ledger rows by status, each with why it is there and what unblocks it."""
    settings = ActionSettings.from_env()
    shop = op_shop(context, config.shop).name
    with warehouse.get_connection() as conn:
        _require_synced(conn, warehouse.resolved_path(), shop)
        try:
            found = review.entries(conn, config.statuses or None, settings, shop=shop)
        except ValueError as exc:  # a status outside the five
            raise dg.Failure(str(exc), allow_retries=False) from exc
    lines = review.as_lines(found)
    for line in lines:
        context.log.info(line)
    counts = review.as_dict(found)["counts"]
    metadata = {
        **{status: dg.MetadataValue.int(n) for status, n in counts.items()},
        "rows": dg.MetadataValue.md("```\n" + "\n".join(lines[:400]) + "\n```"),
    }
    return dg.Output(len(found), metadata=metadata)


@dg.op(tags={"kind": "duckdb"}, pool=POOL)
def settle_ledger_row(
    context: dg.OpExecutionContext, config: SettleConfig, warehouse: WarehouseResource
) -> dg.Output[str]:
    """Settle one open row by hand: recorded with who and why, never deleted."""
    by = config.by.strip() or context.run.tags.get("dagster/user") or f"run {context.run_id}"
    shop = op_shop(context, config.shop).name
    with warehouse.get_connection() as conn:
        _require_synced(conn, warehouse.resolved_path(), shop)
        try:
            done = operator.settle_by_hand(
                conn,
                config.key,
                applied=config.verdict is Verdict.applied,
                reason=config.reason,
                by=by,
                shop=shop,
            )
        except (operator.SettleRefused, operator.ReasonRequired) as exc:
            raise dg.Failure(str(exc), allow_retries=False) from exc
    context.log.info(done.line())
    return dg.Output(done.key, metadata={"settled": dg.MetadataValue.text(done.line())})


def _require_synced(conn: duckdb.DuckDBPyConnection, path: str, shop: str) -> None:
    try:
        require_synced(conn, path, ("orders",), shop=shop)
    except NeverSynced as exc:
        raise dg.Failure(str(exc), allow_retries=False) from exc


@dg.job(
    description="List the order_actions ledger by status, with why and what unblocks each row.",
    executor_def=dg.in_process_executor,
)
def review_actions() -> None:
    review_ledger()


@dg.job(
    description="Settle one open ledger row by hand (applied / not-applied, with a reason).",
    executor_def=dg.in_process_executor,
)
def settle_action() -> None:
    settle_ledger_row()
