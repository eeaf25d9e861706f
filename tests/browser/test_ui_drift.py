"""The contract-drift check as a person sees it in the UI the demo prints (issue 12, items 6-7).

`stoq_manifest` is materialized through the webserver (the GraphQL mutation the UI's
Materialize button sends) against the demo's own saved shop: first as the sandbox serves it (the
check passes), then after the shop's manifest lost an action (the check fails, naming it). Each
verdict is read back over GraphQL and on the asset's checks page in Chromium.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import Chromium, DemoData, graphql

pytestmark = pytest.mark.browser

ASSET = "stoq_manifest"
CHECK = "stoq_manifest_matches_client"
REPOSITORY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  location { name } } } } }"""
LAUNCH = """mutation($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) { __typename
    ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } } } }"""
RUN_STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""
VERDICT = """{ assetNodes(assetKeys: [{path: ["stoq_manifest"]}]) {
  assetChecksOrError { ... on AssetChecks { checks { name
    executionForLatestMaterialization { runId status evaluation { success severity
      metadataEntries { label ... on MarkdownMetadataEntry { mdStr }
        ... on TextMetadataEntry { text } ... on IntMetadataEntry { intValue } } } } } } } } }"""


def _materialize(url: str) -> str:
    """Launch stoq_manifest and its check as the UI does; the run id once it succeeded."""
    (repo,) = graphql(url, REPOSITORY)["repositoriesOrError"]["nodes"]
    params = {
        "selector": {
            "repositoryLocationName": repo["location"]["name"],
            "repositoryName": "__repository__",
            "pipelineName": "__ASSET_JOB",
            "assetSelection": [{"path": [ASSET]}],
            "assetCheckSelection": [{"assetKey": {"path": [ASSET]}, "name": CHECK}],
        },
        "runConfigData": {},
    }
    launched = graphql(url, LAUNCH, {"params": params})["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 120
    while (status := _status(url, run_id)) not in ("SUCCESS", "FAILURE", "CANCELED"):
        assert time.monotonic() < deadline, f"run {run_id} still {status}"
        time.sleep(1)
    assert status == "SUCCESS"
    return run_id


def _status(url: str, run_id: str) -> str:
    return graphql(url, RUN_STATUS, {"id": run_id})["runOrError"]["status"]


def _verdict(url: str, run_id: str) -> dict:
    (node,) = graphql(url, VERDICT)["assetNodes"]
    (check,) = [c for c in node["assetChecksOrError"]["checks"] if c["name"] == CHECK]
    execution = check["executionForLatestMaterialization"]
    assert execution["runId"] == run_id
    evaluation = execution["evaluation"]
    meta = {
        e["label"]: e.get("mdStr") or e.get("text") or e.get("intValue")
        for e in evaluation["metadataEntries"]
    }
    return {"success": evaluation["success"], "severity": evaluation["severity"], **meta}


def _edit_manifest(sandbox_url: str, edits: list[dict]) -> None:
    request = urllib.request.Request(
        f"{sandbox_url}/_sandbox/manifest",
        data=json.dumps({"edits": edits}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def _checks_page(chromium: Chromium, url: str, artifacts: Path, name: str) -> str:
    page = f"{url}/assets/{ASSET}?view=checks"
    chromium.screenshot(page, artifacts / f"{name}.png")
    return chromium.text(page)


def test_the_drift_check_passes_then_fails_naming_the_missing_action(
    dagster_ui: str, demo_data: DemoData, chromium: Chromium, artifacts: Path
):
    clean = _verdict(dagster_ui, _materialize(dagster_ui))
    assert clean["success"] is True and clean["differences"] == 0
    assert clean["diff"].startswith("no drift")
    text = _checks_page(chromium, dagster_ui, artifacts, "drift_clean")
    assert CHECK in text and "Passed" in text, text[-3000:]

    _edit_manifest(demo_data.sandbox_url, [{"action": "release", "remove": True}])
    try:
        drifted = _verdict(dagster_ui, _materialize(dagster_ui))
    finally:
        _edit_manifest(demo_data.sandbox_url, [])
    assert drifted["success"] is False and drifted["severity"] == "ERROR"
    assert "| release | POST /preorders/orders/:id/release | missing |" in drifted["diff"]
    text = _checks_page(chromium, dagster_ui, artifacts, "drift_missing_release")
    assert CHECK in text and "Failed" in text, text[-3000:]
    detail = chromium.text(f"{dagster_ui}/assets/{ASSET}?view=checks&checkDetail={CHECK}")
    assert "1 breaking difference" in detail, detail[-3000:]
