"""The Dagster UI the demo prints and the backlog report, as a person sees them, in Chromium.

Fast existence checks go through the webserver's GraphQL endpoint; real page loads (`--dump-dom`
after the app's scripts ran, plus screenshots) check that the asset graph, the checks, the
sensor and the schedule render, that the launchpads start from a dry run, that fields falling
back to the environment say so where they are shown, and that the report page's charts load.
A DevTools-driven page opens each chart of the report's materialization in the UI. The demo's
two shops are the synced assets' partitions, both materialized by its syncs. A release launched
from the UI for each shop (the GraphQL mutation the Launch button sends) finds nothing the demo
released.
"""

from __future__ import annotations

import json
import re
import time

import duckdb
import pytest
import yaml

from tests.browser.conftest import (
    Chromium,
    DemoData,
    DevToolsPage,
    copy_report,
    editor_text,
    graphql,
)
from tests.pipelines.demo_helpers import release_requests, truth_orders

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
    assert "releasable_orders" in entries
    assert any(label.startswith("outstanding_balance_") for label in entries)  # per currency
    header = entries["backlog_by_offer_state"]["mdStr"].split("\n")[0]
    assert header.startswith("| shop | offer_name | offer_id |")  # by shop; names before ids
    money = entries["money_by_currency"]["mdStr"].split("\n")
    assert money[0].startswith("| shop | currency |")  # a row per shop and currency
    assert [row.split("|")[1].strip() for row in money[2:]] == demo_data.run.shops


#: The latest report materialization's markdown entries (the charts are `chart_<name>`).
REPORT_MARKDOWN = """{ assetOrError(assetKey: {path: ["backlog_report"]}) {
  ... on Asset { assetMaterializations(limit: 1) { metadataEntries { label
    ... on MarkdownMetadataEntry { mdStr } } } } } }"""
#: Click the "[Show Markdown]" of one metadata row (its key in the first cell).
SHOW_MARKDOWN = """(() => {
  const row = [...document.querySelectorAll("tr")].find(
    (r) => r.cells.length && r.cells[0].textContent.trim() === %s);
  const link = row && [...row.querySelectorAll("*")].find(
    (e) => !e.children.length && e.textContent.trim() === "[Show Markdown]");
  if (link) link.click();
  return Boolean(link);
})()"""
#: The PNG images shown from data URIs, once all have loaded: [width, height, alt] each.
SHOWN_PNGS = """(() => {
  const images = [...document.images].filter((i) => i.src.startsWith("data:image/png"));
  return images.length && images.every((i) => i.complete)
    ? images.map((i) => [i.naturalWidth, i.naturalHeight, i.alt]) : null;
})()"""


def test_the_report_shows_its_charts_in_the_ui(dagster_ui: str, devtools: DevToolsPage, artifacts):
    from preorders import render

    asset = graphql(dagster_ui, REPORT_MARKDOWN)["assetOrError"]
    (mat,) = asset["assetMaterializations"]
    charts = {
        e["label"]: e["mdStr"] for e in mat["metadataEntries"] if e["label"].startswith("chart_")
    }
    assert sorted(charts) == sorted(f"chart_{name}" for name in render.CHARTS)
    page = f"{dagster_ui}/assets/backlog_report"
    for label, markdown in sorted(charts.items()):
        title = re.fullmatch(r"!\[(.+?)\]\(data:image/png;base64,[A-Za-z0-9+/=]+\)", markdown)
        assert title, f"{label} is not one PNG image: {markdown[:80]}"
        devtools.goto(page)
        devtools.wait_for(SHOW_MARKDOWN % json.dumps(label))
        ((width, height, alt),) = devtools.wait_for(SHOWN_PNGS)
        assert width > 100 and height > 100 and alt == title.group(1)
        devtools.screenshot(artifacts / f"ui_{label}.png")


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


# Item 1 of issue 11: safe launch defaults; fields that fall back to the environment say so.

#: The money-moving jobs, their op, and what the launchpad must start from.
ACTION_JOBS = {"release_orders": "release_held_orders", "collect_balances": "charge_balances"}
#: Fields whose empty string (not None) means "from the environment", and the variable.
EMPTY_MEANS_ENV = {
    ("resources", "stoq", "config", "base_url"): "STOQ_BASE_URL",
    ("resources", "warehouse", "config", "database"): "PREORDERS_DUCKDB_PATH",
}
ENV_NAME = re.compile(r"\b(?:STOQ|PREORDERS)_[A-Z0-9_]+\b")
#: What the export job tracks itself; an operator never types these.
INTERNAL_EXPORT_FIELDS = {"job_id", "status_url", "batch_key", "kind"}

RUN_CONFIG_SCHEMA = """query($selector: PipelineSelector!) {
  runConfigSchemaOrError(selector: $selector) { __typename ... on RunConfigSchema {
    rootDefaultYaml rootConfigType { key }
    allConfigTypes { key ... on CompositeConfigType {
      fields { name description defaultValueAsJson configTypeKey } } } } } }"""


def _location(url: str) -> str:
    (repo,) = graphql(url, REPOSITORY)["repositoriesOrError"]["nodes"]
    return repo["location"]["name"]


def _schema(url: str, job: str) -> dict:
    selector = {
        "repositoryLocationName": _location(url),
        "repositoryName": "__repository__",
        "pipelineName": job,
    }
    found = graphql(url, RUN_CONFIG_SCHEMA, {"selector": selector})["runConfigSchemaOrError"]
    assert found["__typename"] == "RunConfigSchema", found
    return found


def _fields(schema: dict) -> dict[tuple[str, ...], dict]:
    """Every field of the run config under ops and resources, by path (ops, <op>, config, ...)."""
    types = {t["key"]: t for t in schema["allConfigTypes"]}
    out: dict[tuple[str, ...], dict] = {}

    def walk(key: str, path: tuple[str, ...]) -> None:
        for field in types[key].get("fields") or []:
            here = (*path, field["name"])
            if here[0] in ("ops", "resources"):
                out[here] = field
            walk(field["configTypeKey"], here)

    walk(schema["rootConfigType"]["key"], ())
    return out


def _falls_back_to_the_env(path: tuple[str, ...], field: dict) -> bool:
    leaf = len(path) == 4 and path[2] == "config"  # ops.<op>.config.<field>, resources.<r>...
    return leaf and (field["defaultValueAsJson"] == "null" or path in EMPTY_MEANS_ENV)


@pytest.mark.parametrize("job", sorted(ACTION_JOBS))
def test_the_launchpad_starts_from_a_dry_run(
    dagster_ui: str, chromium: Chromium, artifacts, job: str
):
    op = ACTION_JOBS[job]
    page = f"{dagster_ui}/locations/{_location(dagster_ui)}/jobs/{job}/playground"
    shown = yaml.safe_load(editor_text(chromium.dom(page)))
    assert shown["ops"][op]["config"]["dry_run"] is True, shown
    default = yaml.safe_load(_schema(dagster_ui, job)["rootDefaultYaml"])
    assert default["ops"][op]["config"]["dry_run"] is True  # what the form is built from
    chromium.screenshot(page, artifacts / f"launchpad_{job}.png")


def test_the_export_launchpad_shows_only_what_an_operator_chooses(
    dagster_ui: str, chromium: Chromium
):
    page = f"{dagster_ui}/locations/{_location(dagster_ui)}/jobs/export_report/playground"
    shown = yaml.safe_load(editor_text(chromium.dom(page)))
    typed = {key for op in shown["ops"].values() for key in (op.get("config") or {})}
    assert typed and not typed & INTERNAL_EXPORT_FIELDS, typed
    fields = _fields(_schema(dagster_ui, "export_report"))
    assert not {path[-1] for path in fields if path[0] == "ops"} & INTERNAL_EXPORT_FIELDS
    dates = [f for path, f in fields.items() if path[-1] in ("date_from", "date_to")]
    assert dates and all("YYYY-MM-DD" in f["description"] for f in dates)


@pytest.mark.parametrize("job", sorted(ACTION_JOBS))
def test_fields_that_fall_back_to_the_environment_say_so_on_their_pages(
    dagster_ui: str, chromium: Chromium, job: str
):
    location = _location(dagster_ui)
    fields = _fields(_schema(dagster_ui, job))
    fallbacks = {p: f for p, f in fields.items() if _falls_back_to_the_env(p, f)}
    assert set(EMPTY_MEANS_ENV) <= set(fallbacks)
    for path, field in fallbacks.items():
        named = ENV_NAME.findall(field["description"] or "")
        assert named, f"{'.'.join(path)} falls back to the environment and does not say which"
        assert EMPTY_MEANS_ENV.get(path, named[0]) in named
    # The op's page (job overview, op selected) and each resource's page show those words.
    pages = {("ops", ACTION_JOBS[job]): f"/locations/{location}/jobs/{job}/{ACTION_JOBS[job]}"}
    for resource in ("stoq", "warehouse"):
        pages[("resources", resource)] = f"/locations/{location}/resources/{resource}"
    for (kind, name), page in pages.items():
        text = " ".join(chromium.text(dagster_ui + page).split("\n"))
        for path, field in fallbacks.items():
            if path[:2] == (kind, name):
                description = " ".join(field["description"].split())
                assert description in text, f"{page} does not show {'.'.join(path)}'s description"
    stoq = chromium.text(f"{dagster_ui}/locations/{location}/resources/stoq").split("\n")
    key = stoq.index("api_key")
    # The demo's UI has a shops file: the resource holds no key (each run reads its shop's
    # variable), and the field says where the key comes from; no key is ever on the page.
    assert any("STOQ_API_KEY" in line for line in stoq[key : key + 6])
    assert "Env var" not in stoq[key : key + 6]
    assert not [line for line in stoq if "stoq_api_key_" in line]


def test_the_sensor_page_shows_the_release_sensor_and_its_policy(
    dagster_ui: str, chromium: Chromium, artifacts
):
    sensors = graphql(
        dagster_ui,
        """{ repositoriesOrError { ... on RepositoryConnection { nodes {
             sensors { name description targets { pipelineName } sensorState { status } }
           } } } }""",
    )["repositoriesOrError"]["nodes"][0]["sensors"]
    (sensor,) = [s for s in sensors if s["name"] == "releasable_orders_sensor"]
    assert [t["pipelineName"] for t in sensor["targets"]] == ["release_orders"]
    assert sensor["sensorState"]["status"] == "STOPPED"  # nothing releases until turned on
    page = f"{dagster_ui}/locations/{_location(dagster_ui)}/sensors/releasable_orders_sensor"
    lines = chromium.text(page).split("\n")
    assert "releasable_orders_sensor" in lines
    assert " ".join(sensor["description"].split()) in lines
    assert "dry_run=" in sensor["description"]
    target = lines.index("Target")
    assert "release_orders" in lines[target : target + 3]
    chromium.screenshot(page, artifacts / "sensor_releasable_orders.png")


# Item 8 of issue 11: the UI the demo prints serves the demo's own shops (issue 13: two of them).

LAUNCH = """mutation($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) { __typename
    ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } } } }"""
RUN_STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""
RUN_TAGS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { tags { key value } } } }"""
PARTITIONS = """{ assetNodeOrError(assetKey: {path: ["orders"]}) { ... on AssetNode {
  partitionKeys partitionStats { numMaterialized numPartitions } } } }"""


def test_the_synced_assets_have_a_partition_per_shop_of_the_demo_all_synced(
    dagster_ui: str, demo_data: DemoData
):
    node = graphql(dagster_ui, PARTITIONS)["assetNodeOrError"]
    assert node["partitionKeys"] == demo_data.run.shops == ["shop1", "shop2"]
    assert node["partitionStats"] == {"numMaterialized": 2, "numPartitions": 2}  # the demo's syncs


@pytest.mark.parametrize("shop", ["shop1", "shop2"])
def test_a_release_launched_from_the_ui_sends_nothing_the_demo_released(
    dagster_ui: str, demo_data: DemoData, shop: str
):
    released = _released_by_the_demo(demo_data.db, shop)
    assert released, f"the demo released nothing in {shop}: nothing to prove"
    assert {truth_orders(demo_data.sandbox_url, shop)[i] for i in released} == {"released"}
    params = {
        "selector": {
            "repositoryLocationName": _location(dagster_ui),
            "repositoryName": "__repository__",
            "pipelineName": "release_orders",
        },
        "runConfigData": {
            "ops": {"release_held_orders": {"config": {"dry_run": False, "shop": shop}}}
        },
    }
    launched = graphql(dagster_ui, LAUNCH, {"params": params})["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 120
    while (status := _status(dagster_ui, run_id)) not in ("SUCCESS", "FAILURE", "CANCELED"):
        assert time.monotonic() < deadline, f"run {run_id} still {status}"
        time.sleep(1)
    assert status == "SUCCESS"
    tags = graphql(dagster_ui, RUN_TAGS, {"id": run_id})["runOrError"]["tags"]
    assert {"key": "stoq/shop", "value": shop} in tags  # the run shows its shop
    assert release_requests(demo_data.sandbox_url) == []  # in either shop
    assert _released_by_the_demo(demo_data.db, shop) == released


def _status(url: str, run_id: str) -> str:
    return graphql(url, RUN_STATUS, {"id": run_id})["runOrError"]["status"]


def _released_by_the_demo(db, shop: str) -> set[int]:
    """The shop's orders released for real in the ledger (read-only; waits while a run holds
    the file)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with duckdb.connect(str(db), read_only=True) as conn:
                rows = conn.execute(
                    "select order_id from order_actions where shop = ?"
                    " and action = 'release' and status = 'succeeded' and not dry_run",
                    [shop],
                ).fetchall()
            return {order_id for (order_id,) in rows}
        except duckdb.IOException:
            assert time.monotonic() < deadline, "the warehouse stayed locked"
            time.sleep(0.5)
