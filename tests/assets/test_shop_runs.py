"""Sync runs per shop: a run syncs its partition's shop with that shop's key, and nothing else.

Two sandbox shops on one loopback server, holding the same order ids, named `a` and `b` in a
shops file whose keys live only in the variables it names (no STOQ_API_KEY at all).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import sandbox
from assets.checks import build_asset_checks
from assets.report import backlog_report
from assets.resources import WarehouseResource
from assets.shops import SHOP_TAG, shop_partitions
from assets.sync_assets import build_sync_assets
from pipelines.definitions import stoq_resource
from pipelines.jobs import build_sync_job

KEYS = {"a": "STOQ_API_KEY_A", "b": "STOQ_API_KEY_B"}
SANDBOX = {"a": "shop1", "b": "shop2"}
WRONG_KEY = "stoq_api_key_" + "nobodys".ljust(32, "0")


@dataclass
class TwoShops:
    running: sandbox.RunningSandbox
    db: Path
    defs: dg.Definitions
    instance: dg.DagsterInstance

    def sync(self, shop: str) -> dg.ExecuteInProcessResult:
        """One `sync_preorders` run of partition `shop`, as the schedule or the UI launches it."""
        job = self.defs.resolve_job_def("sync_preorders")
        return job.execute_in_process(
            partition_key=shop, instance=self.instance, raise_on_error=False
        )

    def truth_ids(self, shop: str) -> set[int]:
        return {o["id"] for o in self.running.shops[SANDBOX[shop]].truth_orders()}

    def rows(self, query: str) -> list[tuple]:
        with duckdb.connect(str(self.db)) as conn:
            return conn.execute(query).fetchall()


def write_shops_file(path: Path, base_url: str) -> Path:
    lines = ["shops:"]
    for name, env in KEYS.items():
        lines += [f"  - name: {name}", f"    api_key_env: {env}", f"    base_url: {base_url}"]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def two_shops(
    tmp_path: Path, dagster_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TwoShops]:
    config = sandbox.SandboxConfig(orders=80, rate_limit_points=1_000_000)
    shops = sandbox.Shops.seeded(2, config, same_ids=True)
    with sandbox.serve(shops) as running:
        shops_file = write_shops_file(tmp_path / "shops.yaml", running.base_url)
        monkeypatch.setenv("PREORDERS_SHOPS", str(shops_file))
        for name, env in KEYS.items():
            monkeypatch.setenv(env, running.shops.key(SANDBOX[name]))
        monkeypatch.delenv("STOQ_API_KEY", raising=False)  # only the shops file's variables
        monkeypatch.delenv("STOQ_BASE_URL", raising=False)
        partitions = shop_partitions()
        db = tmp_path / "w.duckdb"
        defs = dg.Definitions(
            assets=[*build_sync_assets(partitions), backlog_report],
            asset_checks=build_asset_checks(partitions),
            jobs=[build_sync_job(partitions)],
            resources={"stoq": stoq_resource(), "warehouse": WarehouseResource(database=str(db))},
        )
        with dg.DagsterInstance.get() as instance:
            yield TwoShops(running, db, defs, instance)


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    """{table: metadata} of the run's materializations, each checked to be of one partition."""
    found = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        found[mat.asset_key.to_user_string()] = {
            "partition": mat.partition,
            **{k: v.value for k, v in mat.metadata.items()},
        }
    return found


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    """Every step failure's error, its causes included."""
    errors = [e.event_specific_data.error for e in result.all_events if e.is_step_failure]
    return "\n".join(error.to_string() for error in errors if error is not None)


def test_a_run_of_partition_b_syncs_shop_b_only(two_shops: TwoShops) -> None:
    assert two_shops.truth_ids("a") == two_shops.truth_ids("b")  # the same ids in both shops
    result = two_shops.sync("b")
    assert result.success
    assert result.dagster_run.tags[SHOP_TAG] == "b"
    assert result.dagster_run.tags["dagster/partition"] == "b"
    assert two_shops.rows("select distinct shop from orders") == [("b",)]
    assert two_shops.rows("select distinct shop from offers") == [("b",)]
    ids = {i for (i,) in two_shops.rows("select id from orders where not missing_from_api")}
    assert ids == two_shops.truth_ids("b")
    tables = materialized(result)
    synced = {t: m for t, m in tables.items() if t != "backlog_report"}
    assert {m["partition"] for m in synced.values()} == {"b"}
    assert synced["orders"]["dagster/row_count"] == len(ids)
    checks = result.get_asset_check_evaluations()
    assert checks and {c.partition for c in checks} == {"b"}
    assert all(c.passed for c in checks), [(c.check_name, c.metadata) for c in checks]
    # shop a's run adds shop a's rows next to b's: the same ids stay two rows each
    assert two_shops.sync("a").success
    counts = two_shops.rows("select shop, count(*), count(distinct id) from orders group by 1")
    assert sorted(counts) == [("a", len(ids), len(ids)), ("b", len(ids), len(ids))]


def test_one_shops_401_fails_that_shops_run_only(
    two_shops: TwoShops, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEYS["a"], WRONG_KEY)
    failed = two_shops.sync("a")
    assert not failed.success
    text = failure_text(failed)
    assert "401" in text or "nauthorized" in text, text
    assert WRONG_KEY not in text and WRONG_KEY[-24:] not in text  # scrubbed
    ok = two_shops.sync("b")
    assert ok.success
    assert two_shops.rows("select distinct shop from orders") == [("b",)]


def test_a_shops_unset_key_fails_its_run_naming_the_variable(
    two_shops: TwoShops, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEYS["b"])
    failed = two_shops.sync("b")
    assert not failed.success
    assert f"{KEYS['b']} is not set" in failure_text(failed)
    assert two_shops.sync("a").success  # shop a needs only its own key


def test_the_table_checks_judge_the_runs_shop_alone(two_shops: TwoShops) -> None:
    assert two_shops.sync("a").success and two_shops.sync("b").success
    with duckdb.connect(str(two_shops.db)) as conn:  # an order of shop a in no documented state
        conn.execute(
            "insert into orders select * replace (999999999 as id, 'mystery' as state)"
            " from orders where shop = 'a' limit 1"
        )
    outcome = {}
    for shop in ("b", "a"):
        result = two_shops.sync(shop)
        (evaluation,) = [
            e for e in result.get_asset_check_evaluations()
            if e.check_name == "orders_states_documented"
        ]  # fmt: skip
        assert evaluation.partition == shop
        outcome[shop] = (evaluation.passed, evaluation.metadata["unknown_states"].value)
    assert outcome == {"b": (True, {}), "a": (False, {"mystery": 1})}
