"""The `stoq_manifest` asset and its `stoq_manifest_matches_client` check: contract drift.

Wiring only: the asset fetches `GET /help?prefix=/preorders` into the `stoq_manifest` table
(preorders.manifest, one request); the check reads that table back and compares it with every
action the client calls (preorders.contract), so it judges what was fetched and can run again
without calling STOQ. The diff goes into the check's metadata as a markdown table.
Not partitioned: the contract is the API's, the same for every shop, so one fetch a day, made
with the first configured shop's key (`default`'s without a shops file), serves them all.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import dagster as dg

from assets.metadata import column_schema
from assets.resources import POOL, StoqResource, WarehouseResource
from assets.shops import first_shop
from preorders.contract import Contract
from preorders.manifest import fetch_manifest, stored_contract
from warehouse.tables import describe

GROUP = "contract"
TABLE = "stoq_manifest"


@dg.asset(
    group_name=GROUP,
    kinds={"duckdb", "table"},
    owners=["team:preorders"],
    tags={"source": "stoq"},
    pool=POOL,  # it writes DuckDB
)
def stoq_manifest(stoq: StoqResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """STOQ's /help manifest under /preorders, one row per action (method, path, name, aliases,
    required fields): what the client's calls are checked against, fetched daily."""
    settings = stoq.shop_settings(first_shop())
    with settings.client() as client, warehouse.get_connection() as conn:
        fetched = fetch_manifest(client, conn)
        shape = describe(conn, TABLE)  # the catalog's name and columns, never a row
    contract = fetched.contract
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": fetched.rows,
            "dagster/table_name": shape.name,
            "dagster/column_schema": column_schema([asdict(c) for c in shape.columns]),
            "fetched_at": dg.MetadataValue.timestamp(fetched.fetched_at),
            "client_calls": contract.calls,
            "differences": len(contract.drift),
            "breaking": len(contract.breaking),
        }
    )


@dg.asset_check(
    asset=stoq_manifest,
    name="stoq_manifest_matches_client",
    blocking=False,
    pool=POOL,  # it opens the warehouse read-write, as every step that connects does
    description="Every action the client calls (method, path, required body fields) is in the "
    "fetched manifest, found by path or, moved, by name or alias. Fails with ERROR on breaking "
    "drift, WARN on drift that breaks no call; the diff is in the metadata.",
)
def stoq_manifest_matches_client(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        found = stored_contract(conn)
    if found is None:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"summary": "no manifest fetched yet: materialize stoq_manifest"},
        )
    contract, fetched_at = found
    return dg.AssetCheckResult(
        passed=not contract.drift,
        severity=dg.AssetCheckSeverity.ERROR if contract.breaking else dg.AssetCheckSeverity.WARN,
        metadata=check_metadata(contract, fetched_at),
    )


def check_metadata(contract: Contract, fetched_at: datetime) -> dict[str, Any]:
    """The verdict's line, counts and the diff (a markdown table, or "no drift")."""
    return {
        "summary": contract.line().removeprefix("contract: "),
        "diff": dg.MetadataValue.md(contract.markdown()),
        "differences": len(contract.drift),
        "breaking": len(contract.breaking),
        "client_calls": contract.calls,
        "manifest_actions": contract.listed,
        "fetched_at": dg.MetadataValue.timestamp(fetched_at),
    }
