"""Asset checks on the synced tables: one Dagster check per `preorders.checks.CHECKS` entry.

Wiring only: open the warehouse, evaluate the core check on the run's shop, turn its outcome into
a result. The checks are partitioned by shop as their assets are (Dagster 1.13 runs a partitioned
check in the partition's run and records its result per partition; a preview feature there), so
a shop's run judges that shop's rows alone.
"""

import dagster as dg

from assets.resources import POOL, WarehouseResource
from assets.shops import SHOP_PARTITIONS, partitioned_checks, run_shop
from preorders import checks


def check_result(outcome: checks.CheckOutcome) -> dg.AssetCheckResult:
    """The Dagster result of a core check outcome (same name, asset, severity and metadata)."""
    return dg.AssetCheckResult(
        check_name=outcome.name,
        asset_key=outcome.asset,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity(outcome.severity),
        metadata=outcome.metadata,
    )


def _asset_check(
    spec: checks.CheckSpec, partitions: dg.PartitionsDefinition
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=spec.asset,
        name=spec.name,
        description=spec.description,
        blocking=spec.blocking,
        pool=POOL,  # the connection opens read-write (it applies the schema): a writer
        partitions_def=partitions,
    )
    def _check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        run = context.op_execution_context
        shop = run_shop(run.partition_key if run.has_partition_key else None)
        with warehouse.get_connection() as conn:
            return check_result(spec.evaluate(conn, shop=shop.name))

    return _check


def build_asset_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    """Every core table check, partitioned by `partitions` (one key per shop)."""
    with partitioned_checks():
        return [_asset_check(spec, partitions) for spec in checks.CHECKS]


ASSET_CHECKS = build_asset_checks(SHOP_PARTITIONS)
