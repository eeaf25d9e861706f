"""The code location loads, and every job, schedule and sensor resolves."""

from __future__ import annotations

import dagster as dg

from assets.sync_assets import offers_assets, orders_assets
from pipelines.definitions import defs

SYNC_ASSETS = {"offers", "offer_variants", "orders", "order_line_items"}
JOBS = {
    "sync_preorders",
    "release_orders",
    "collect_balances",
    "manage_offer",
    "export_report",
    "bulk_variant_admin",
    "review_actions",
    "refresh_stoq_manifest",
    "settle_action",
}


def test_definitions_load_and_resolve() -> None:
    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    # Dagster adds "__ASSET_JOB" for ad hoc materializations; every other job is ours.
    assert {j.name for j in repo.get_all_jobs() if not j.name.startswith("__")} == JOBS
    assert {s.name: s.job_name for s in repo.schedule_defs} == {
        "hourly_sync_schedule": "sync_preorders",
        # An asset-selection target: Dagster names the job it builds after the schedule.
        "daily_manifest_schedule": "refresh_stoq_manifest",
    }
    automation = dg.AutomationConditionSensorDefinition
    job_sensors = [s for s in repo.sensor_defs if not isinstance(s, automation)]
    assert {s.name: s.job_name for s in job_sensors} == {
        "releasable_orders_sensor": "release_orders"
    }
    # The one sensor without a job evaluates automation conditions (backlog_report's).
    assert {s.name for s in repo.sensor_defs if isinstance(s, automation)} == {
        "backlog_report_sensor"
    }
    for target in (*repo.schedule_defs, *job_sensors):
        assert repo.get_job(target.job_name).name == target.job_name


def test_sync_job_covers_the_four_assets_their_checks_and_the_report_in_process() -> None:
    job = defs.resolve_job_def("sync_preorders")
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert keys == SYNC_ASSETS | {"backlog_report"}
    checks = {key.name for key in job.asset_layer.asset_graph.asset_check_keys}
    assert {"orders_ids_unique", "offers_ids_unique", "orders_states_documented"} <= checks
    assert "orders_count_matches_api" in checks
    assert not {name for name in checks if name.endswith("_synced_recently")}  # FreshnessPolicy
    assert {"orders_sync_complete", "offers_sync_complete"} <= checks
    specs = [*offers_assets.check_specs, *orders_assets.check_specs]
    assert {s.key.name for s in specs if s.blocking} == {
        "orders_sync_complete",
        "offers_sync_complete",
    }
    assert job.executor_def is dg.in_process_executor


def test_hourly_schedule_targets_the_sync_job_and_starts_stopped() -> None:
    schedule = defs.get_repository_def().get_schedule_def("hourly_sync_schedule")
    assert schedule.job_name == "sync_preorders"
    assert schedule.cron_schedule == "7 * * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_assets_are_grouped_and_described() -> None:
    graph = defs.resolve_asset_graph()
    for key in SYNC_ASSETS:
        node = graph.get(dg.AssetKey(key))
        assert node.group_name == "stoq"
        assert node.description


def test_every_job_the_readme_names_is_in_the_code_location() -> None:
    names = {job.name for job in defs.get_repository_def().get_all_jobs()}
    assert names >= JOBS
    sensor = defs.get_repository_def().get_sensor_def("releasable_orders_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED


def test_daily_manifest_schedule_fetches_the_manifest_and_runs_its_drift_check() -> None:
    repo = defs.get_repository_def()
    schedule = repo.get_schedule_def("daily_manifest_schedule")
    assert schedule.cron_schedule == "17 5 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    job = repo.get_job(schedule.job_name)
    assert job.asset_layer.executable_asset_keys == {dg.AssetKey("stoq_manifest")}
    checks = job.asset_layer.asset_graph.asset_check_keys
    assert {key.name for key in checks} == {"stoq_manifest_matches_client"}
    node = defs.resolve_asset_graph().get(dg.AssetKey("stoq_manifest"))
    assert node.group_name == "contract" and node.description
    assert node.pools == {"duckdb_writer"}
    spec = defs.resolve_asset_graph().get_check_spec(next(iter(checks)))
    assert not spec.blocking and spec.description


def test_the_synced_assets_and_their_checks_are_partitioned_by_shop() -> None:
    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def("sync_preorders")
    shops = job.partitions_def
    assert shops is not None and shops.get_partition_keys() == ["default"]  # no shops file
    for key in SYNC_ASSETS:
        assert graph.get(dg.AssetKey(key)).partitions_def == shops
    for key in graph.asset_check_keys:
        spec = graph.get_check_spec(key)
        expected = None if key.asset_key == dg.AssetKey("stoq_manifest") else shops
        assert spec.partitions_def == expected, key
    # one report and one contract for every shop
    assert graph.get(dg.AssetKey("backlog_report")).partitions_def is None
    assert graph.get(dg.AssetKey("stoq_manifest")).partitions_def is None
    assert job.get_tags_for_partition_key("default", None)["stoq/shop"] == "default"
