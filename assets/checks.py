"""Asset checks on the synced tables; the SQL lives in `warehouse/checks.py`."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from assets.resources import WarehouseResource
from warehouse import checks

FRESHNESS = timedelta(hours=3)  # an hourly schedule may miss two runs before this fails


@dg.asset_check(asset="orders", blocking=True)
def orders_ids_unique(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Every order id (the Shopify order id) appears once."""
    with warehouse.get_connection() as conn:
        duplicates = checks.duplicate_ids(conn, "orders")
    return dg.AssetCheckResult(passed=duplicates == 0, metadata={"duplicate_rows": duplicates})


@dg.asset_check(asset="offers", blocking=True)
def offers_ids_unique(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Every offer UUID appears once."""
    with warehouse.get_connection() as conn:
        duplicates = checks.duplicate_ids(conn, "offers")
    return dg.AssetCheckResult(passed=duplicates == 0, metadata={"duplicate_rows": duplicates})


@dg.asset_check(asset="orders")
def orders_states_documented(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Every order state is one SPEC §3.1 documents (placed ... refunded)."""
    with warehouse.get_connection() as conn:
        unknown = checks.unknown_states(conn)
    return dg.AssetCheckResult(
        passed=not unknown,
        metadata={
            "unknown_states": dg.MetadataValue.json(unknown),
            "orders": sum(unknown.values()),
        },
    )


@dg.asset_check(asset="orders")
def orders_count_matches_api(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Orders still listed by the API equal the total_count its last complete walk reported."""
    with warehouse.get_connection() as conn:
        live, total = checks.live_orders_vs_api(conn)
    return dg.AssetCheckResult(
        passed=total is not None and live == total,
        severity=dg.AssetCheckSeverity.WARN,  # orders arriving mid-walk can make this blink
        metadata={"live_orders": live, "api_total_count": total},
    )


def _freshness_check(stream: str) -> dg.AssetChecksDefinition:
    hours = FRESHNESS.total_seconds() / 3600
    description = f"The {stream} stream had a successful sync within the last {hours:g} hours."

    @dg.asset_check(asset=stream, name=f"{stream}_synced_recently", description=description)
    def synced_recently(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as conn:
            last = checks.last_success(conn, stream)
        age = None if last is None else datetime.now(UTC) - last
        return dg.AssetCheckResult(
            passed=age is not None and age <= FRESHNESS,
            metadata={
                "last_success": str(last),
                "age_hours": None if age is None else round(age.total_seconds() / 3600, 2),
                "max_hours": hours,
            },
        )

    return synced_recently


ASSET_CHECKS = [
    orders_ids_unique,
    offers_ids_unique,
    orders_states_documented,
    orders_count_matches_api,
    _freshness_check("orders"),
    _freshness_check("offers"),
]
