"""Asset checks on the synced tables: one Dagster check per `preorders.checks.CHECKS` entry.

Wiring only: open the warehouse, evaluate the core check, turn its outcome into a result.
"""

import dagster as dg

from assets.resources import POOL, WarehouseResource
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


def _asset_check(spec: checks.CheckSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=spec.asset,
        name=spec.name,
        description=spec.description,
        blocking=spec.blocking,
        pool=POOL,  # the connection opens read-write (it applies the schema): a writer
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as conn:
            return check_result(spec.evaluate(conn))

    return _check


ASSET_CHECKS = [_asset_check(spec) for spec in checks.CHECKS]
