"""`stoq_manifest` and its drift check, materialized with real resources against a sandbox over
a loopback socket whose manifest the tests change as STOQ might."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

import sandbox
from assets.manifest import stoq_manifest, stoq_manifest_matches_client
from assets.resources import StoqResource, WarehouseResource
from stoq.contract import CALLS

REMOVE_RELEASE = {"action": "release", "remove": True}
RENAME_FIELD = {"action": "add_variants", "rename_fields": {"variant_ids": "ids"}}
ADD_ALIAS = {"action": "release", "add_aliases": ["free the order"]}
CHECK_ONLY = dg.AssetSelection.checks(stoq_manifest_matches_client)


@pytest.fixture(scope="module")
def served() -> Iterator[sandbox.RunningSandbox]:
    with sandbox.serve(sandbox.SandboxConfig(orders=5)) as running:
        yield running


@pytest.fixture
def edit(served: sandbox.RunningSandbox) -> Iterator[Any]:
    """Change the served manifest for one test; STOQ's own comes back afterwards."""
    yield lambda *edits: served.shop.edit_manifest(edits)
    served.shop.edit_manifest([])


def materialize(
    served: sandbox.RunningSandbox, db: Path, selection: Any = None
) -> dg.ExecuteInProcessResult:
    resources = {
        "stoq": StoqResource(api_key=sandbox.DEFAULT_API_KEY, base_url=served.base_url),
        "warehouse": WarehouseResource(database=str(db)),
    }
    return dg.materialize(
        [stoq_manifest, stoq_manifest_matches_client],
        resources=resources,
        selection=selection,
        instance=dg.DagsterInstance.get(),
    )


def evaluation(result: dg.ExecuteInProcessResult) -> tuple[bool, str, dict[str, Any]]:
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "stoq_manifest_matches_client"
    meta = {k: v.value for k, v in check.metadata.items()}
    return check.passed, check.severity.value, meta


def test_a_clean_manifest_is_stored_and_passes_with_no_drift(served, tmp_path, dagster_home):
    db = tmp_path / "w.duckdb"
    result = materialize(served, db)
    assert result.success
    (event,) = result.get_asset_materialization_events()
    meta = {k: v.value for k, v in event.materialization.metadata.items()}
    listed = len(served.shop.registry.manifest("/preorders")["actions"])
    assert meta["dagster/row_count"] == listed and meta["differences"] == 0
    assert meta["dagster/table_name"] == "w.main.stoq_manifest"
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("select count(*) from stoq_manifest").fetchone() == (listed,)
        columns = [r[0] for r in conn.execute("describe stoq_manifest").fetchall()]
    assert [c.name for c in meta["dagster/column_schema"].columns] == columns
    passed, _, check = evaluation(result)
    assert passed
    assert check["summary"] == f"matches the client ({len(CALLS)} actions)"
    assert check["diff"].startswith("no drift") and check["differences"] == 0


def test_a_removed_action_fails_with_error_and_a_diff_naming_it(
    served, edit, tmp_path, dagster_home
):
    edit(REMOVE_RELEASE)
    result = materialize(served, tmp_path / "w.duckdb")
    assert result.success  # the check does not block: the asset is stored as fetched
    passed, severity, meta = evaluation(result)
    assert not passed and severity == "ERROR"
    assert meta["breaking"] == meta["differences"] == 1
    assert "| release | POST /preorders/orders/:id/release | missing |" in meta["diff"]
    assert meta["summary"].startswith("1 breaking difference: POST /preorders/orders/:id/release")


def test_a_renamed_required_field_fails(served, edit, tmp_path, dagster_home):
    edit(RENAME_FIELD)
    passed, severity, meta = evaluation(materialize(served, tmp_path / "w.duckdb"))
    assert not passed and severity == "ERROR"
    assert (
        "| add_variants | POST /preorders/offers/:id/products/add_variants | new required"
        in (meta["diff"])
    )
    assert "'variant_ids' is not in the request schema" in meta["diff"]


def test_an_added_alias_passes(served, edit, tmp_path, dagster_home):
    edit(ADD_ALIAS)
    passed, _, meta = evaluation(materialize(served, tmp_path / "w.duckdb"))
    assert passed and meta["differences"] == 0


def test_the_check_judges_the_stored_fetch_without_calling_stoq(
    served, edit, tmp_path, dagster_home
):
    db = tmp_path / "w.duckdb"
    edit(REMOVE_RELEASE)
    assert materialize(served, db).success
    served.shop.edit_manifest([])  # STOQ fixed it; the stored manifest still has the drift
    before = served.shop.count_requests("GET", "/help")
    passed, severity, _ = evaluation(materialize(served, db, CHECK_ONLY))
    assert (passed, severity) == (False, "ERROR")
    assert served.shop.count_requests("GET", "/help") == before
    assert evaluation(materialize(served, db))[0]  # a new fetch clears it
