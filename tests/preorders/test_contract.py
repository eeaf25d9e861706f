"""preorders.contract's verdict and lines, and preorders.manifest's fetch into DuckDB and back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

import warehouse.schema
from preorders.contract import contract_of
from preorders.manifest import fetch_manifest, stored_contract
from sandbox import DEFAULT_API_KEY, FakeClock, SandboxConfig, Shop, mock_transport
from stoq import StoqClient, errors
from stoq.contract import CALLS

BASE_URL = "http://sandbox.test/api/v2/external"
REMOVE_RELEASE = {"action": "release", "remove": True}
RENAME_FIELD = {"action": "bulk_release", "rename_fields": {"order_ids": "ids"}}


def shop_with(*edits: dict) -> Shop:
    return Shop(SandboxConfig(orders=5, manifest_edits=edits), clock=FakeClock())


def client_for(shop: Shop) -> StoqClient:
    return StoqClient(DEFAULT_API_KEY, BASE_URL, transport=mock_transport(shop))


def served(*edits: dict) -> dict:
    with client_for(shop_with(*edits)) as client:
        return client.help(prefix="/preorders")


@pytest.fixture
def conn(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        warehouse.schema.apply(c)
        yield c


def test_a_clean_manifest_matches_with_no_drift():
    contract = contract_of(served())
    assert contract.ok and contract.drift == ()
    assert contract.line() == f"contract: matches the client ({len(CALLS)} actions)"
    assert contract.markdown().startswith("no drift")


def test_breaking_drift_names_the_first_difference_and_counts_the_rest():
    contract = contract_of(served(REMOVE_RELEASE, RENAME_FIELD))
    assert not contract.ok and len(contract.breaking) == 3
    assert contract.line() == (
        "contract: 3 breaking differences: POST /preorders/orders/:id/release (release): "
        "missing: no action at this method and path, by name or alias (and 2 more)"
    )
    table = contract.markdown().splitlines()
    assert table[0] == "| action | call | kind | detail | breaking |"
    assert len(table) == 2 + len(contract.drift)
    assert "| release | POST /preorders/orders/:id/release | missing |" in table[2]
    assert table[-1].endswith("| False |")  # 'order_ids' no longer required: listed last


def test_drift_that_breaks_no_call_still_matches_but_is_named():
    # `add_variants` drops `variant_ids` from required but keeps it as a property.
    manifest = served()
    for action in manifest["actions"]:
        if action["name"] == "add_variants":
            action["request_schema"]["required"] = []
    contract = contract_of(manifest)
    assert contract.ok and len(contract.drift) == 1
    assert contract.line().startswith(
        f"contract: matches the client ({len(CALLS)} actions); 1 non-breaking difference: "
    )


def test_a_manifest_without_actions_is_malformed():
    with pytest.raises(errors.MalformedResponse):
        contract_of({"version": "v2"})


def test_a_fetch_is_stored_and_read_back_to_the_same_verdict(conn):
    assert stored_contract(conn) is None
    shop = shop_with(RENAME_FIELD)
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with client_for(shop) as client:
        fetched = fetch_manifest(client, conn, now=at)
    assert shop.count_requests("GET", "/help") == 1
    listed = len(shop.registry.manifest("/preorders")["actions"])
    assert (
        fetched.rows == listed == conn.execute("select count(*) from stoq_manifest").fetchone()[0]
    )
    found = stored_contract(conn)
    assert found is not None
    contract, fetched_at = found
    assert contract == fetched.contract and fetched_at == at
    row = conn.execute(
        "select name, aliases, required_fields from stoq_manifest where path like '%bulk_release'"
    ).fetchone()
    assert row[0] == "bulk_release" and row[2] == ["ids"] and row[1]


def test_a_new_fetch_replaces_the_last(conn):
    with client_for(shop_with(REMOVE_RELEASE)) as client:
        fetch_manifest(client, conn)
    with client_for(shop_with()) as client:
        fetch_manifest(client, conn)
    found = stored_contract(conn)
    assert found is not None and found[0].drift == ()


def test_a_huge_server_text_is_cut_in_the_table():
    huge = "x" * 100_000
    manifest = {"actions": [{"name": "release", "method": "POST", "path": f"/{huge}"}]}
    table = contract_of(manifest).markdown()
    assert huge not in table and "…" in table
    assert max(len(line) for line in table.splitlines()) < 2_000
