"""Fetch STOQ's /help manifest into the warehouse and compare it with the client's calls.

The `stoq_manifest` asset calls `fetch_manifest` (one request); its check reads the table back
with `stored_contract`, so the check judges exactly what was fetched and can be re-run without
calling STOQ. `preorders check` compares the /help answer it already has (preorders.contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from preorders.contract import PREFIX, Contract, contract_of
from stoq import StoqClient
from stoq.contract import listed_actions
from warehouse.manifest import replace_manifest, stored_manifest


@dataclass(frozen=True)
class Fetched:
    """One fetch: rows stored, when, and the comparison of what was fetched."""

    rows: int
    fetched_at: datetime
    contract: Contract


def fetch_manifest(
    client: StoqClient, conn: duckdb.DuckDBPyConnection, now: datetime | None = None
) -> Fetched:
    """`GET /help?prefix=/preorders`, stored in `stoq_manifest` (replacing the last fetch)."""
    manifest = client.help(prefix=PREFIX)
    contract = contract_of(manifest)  # a manifest without actions raises before anything is stored
    fetched_at = now or datetime.now(UTC)
    rows = replace_manifest(conn, listed_actions(manifest), fetched_at)
    return Fetched(rows, fetched_at, contract)


def stored_contract(conn: duckdb.DuckDBPyConnection) -> tuple[Contract, datetime] | None:
    """The comparison of the stored manifest and when it was fetched; None before any fetch."""
    found = stored_manifest(conn)
    if found is None:
        return None
    manifest, fetched_at = found
    return contract_of(manifest), fetched_at
