"""The Dagster UI and the backlog report, as a person sees them, in headless Chromium.

Fast existence checks go through the webserver's GraphQL endpoint; real page loads (`--dump-dom`
after the app's scripts ran, plus screenshots) check that the asset graph, the checks, the
sensor and the schedule render, and that the report page's charts load.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import Chromium, DemoData, copy_report, graphql

pytestmark = pytest.mark.browser

#: What the demo must show, whatever else the code location grows.
MUST_ASSETS = {"offers", "offer_variants", "orders", "order_line_items", "backlog_report"}
MUST_SENSORS = {"releasable_orders_sensor"}
MUST_SCHEDULES = {"hourly_sync_schedule"}

REPOSITORY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  location { name } sensors { name } schedules { name }
  assetNodes { assetKey { path } groupName dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name } } } } } } } }"""

REPORT_MATERIALIZATION = """{ assetOrError(assetKey: {path: ["backlog_report"]}) {
  ... on Asset { assetMaterializations(limit: 1) { metadataEntries { label
    ... on PathMetadataEntry { path } ... on IntMetadataEntry { intValue }
    ... on MarkdownMetadataEntry { mdStr } } } } } }"""


def _expected() -> tuple[set[str], set[str], set[str], set[str]]:
    """Assets, checks, sensors and schedules of the code location, plus the must-haves."""
    from pipelines.definitions import defs

    graph, repo = defs.resolve_asset_graph(), defs.get_repository_def()
    assets = {k.to_user_string() for k in graph.get_all_asset_keys()} | MUST_ASSETS
    checks = {k.name for k in graph.asset_check_keys}
    sensors = {s.name for s in repo.sensor_defs} | MUST_SENSORS
    schedules = {s.name for s in repo.schedule_defs} | MUST_SCHEDULES
    return assets, checks, sensors, schedules


def test_graphql_lists_every_asset_check_sensor_and_schedule(dagster_ui: str):
    (repo,) = graphql(dagster_ui, REPOSITORY)["repositoriesOrError"]["nodes"]
    nodes = {"/".join(n["assetKey"]["path"]): n for n in repo["assetNodes"]}
    assets, checks, sensors, schedules = _expected()

    assert assets <= set(nodes)
    shown_checks = {
        c["name"] for n in nodes.values() for c in n["assetChecksOrError"].get("checks", [])
    }
    assert checks and checks <= shown_checks
    assert sensors <= {s["name"] for s in repo["sensors"]}
    assert schedules <= {s["name"] for s in repo["schedules"]}
    report = nodes["backlog_report"]
    assert report["groupName"] == "reports"
    assert ["orders"] in [d["path"] for d in report["dependencyKeys"]]


def test_backlog_report_materialization_carries_figures_and_path(
    dagster_ui: str, demo_data: DemoData
):
    asset = graphql(dagster_ui, REPORT_MATERIALIZATION)["assetOrError"]
    (mat,) = asset["assetMaterializations"]
    entries = {e["label"]: e for e in mat["metadataEntries"]}
    assert entries["path"]["path"] == str(demo_data.report)
    assert entries["open_orders"]["intValue"] > 0
    assert "releasable_orders" in entries and "outstanding_balance" in entries
    assert entries["backlog_by_offer_state"]["mdStr"].startswith("| offer_id |")


def test_asset_graph_renders(dagster_ui: str, chromium: Chromium, artifacts):
    (repo,) = graphql(dagster_ui, REPOSITORY)["repositoriesOrError"]["nodes"]
    location = repo["location"]["name"]
    groups: dict[str, set[str]] = {}
    for node in repo["assetNodes"]:
        groups.setdefault(node["groupName"], set()).add("/".join(node["assetKey"]["path"]))
    assert {"stoq", "reports"} <= set(groups)

    lineage = chromium.dom(f"{dagster_ui}/asset-groups")  # groups collapse into boxes here
    assert all(group in lineage for group in groups), "global lineage lacks a group"
    for group, assets in sorted(groups.items()):
        page = f"{dagster_ui}/locations/{location}/asset-groups/{group}"
        dom = chromium.dom(page)
        missing = sorted(name for name in assets if name not in dom)
        assert not missing, f"asset graph of group {group} lacks {missing}"
        shot = chromium.screenshot(page, artifacts / f"asset_graph_{group}.png")
        assert shot.stat().st_size > 20_000  # a blank or error page compresses far smaller
    print(f"asset graph screenshots in {artifacts}")


def test_asset_checks_render_on_the_orders_page(dagster_ui: str, chromium: Chromium):
    dom = chromium.dom(f"{dagster_ui}/assets/orders?view=checks")
    _, checks, *_ = _expected()
    for name in sorted(c for c in checks if c.startswith("orders_")):
        assert name in dom, f"check {name} not rendered"


def test_automation_page_lists_the_sensor_and_the_schedule(
    dagster_ui: str, chromium: Chromium, artifacts
):
    dom = chromium.dom(f"{dagster_ui}/automation")
    _, _, sensors, schedules = _expected()
    for name in sorted(sensors | schedules):
        assert name in dom, f"{name} not on the automation page"
    chromium.screenshot(f"{dagster_ui}/automation", artifacts / "automation.png")


PROBE = """<!doctype html><html><body><pre id="result">pending</pre>
<iframe id="report" src="backlog.html" width="1200" height="900"></iframe>
<script>
document.getElementById("report").addEventListener("load", () => {
  const doc = document.getElementById("report").contentDocument;
  const images = Array.from(doc.images).map(
    (img) => ({complete: img.complete, width: img.naturalWidth, height: img.naturalHeight}));
  document.getElementById("result").textContent = JSON.stringify(
    {title: doc.title, images: images});
});
</script></body></html>"""


def test_report_page_renders_its_charts(
    demo_data: DemoData, chromium: Chromium, static_server, artifacts
):
    from preorders import render

    url, folder = static_server
    copy_report(demo_data.report, folder)
    (folder / "probe.html").write_text(PROBE, encoding="utf-8")

    dom = chromium.dom(f"{url}/probe.html")
    match = re.search(r'<pre id="result">(.*?)</pre>', dom, re.DOTALL)
    assert match and match.group(1) != "pending", "the report never finished loading"
    result = json.loads(match.group(1).replace("&quot;", '"'))
    assert result["title"] == "STOQ preorder backlog"
    assert len(result["images"]) == len(render.CHARTS)
    for image in result["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    shot = chromium.screenshot(demo_data.report.as_uri(), artifacts / "report.png")
    assert shot.stat().st_size > 20_000
