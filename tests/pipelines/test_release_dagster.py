"""release_orders / collect_balances jobs, the CLI and two processes over a loopback sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import dagster as dg
import duckdb
import pytest

import warehouse.schema
from pipelines import cli
from pipelines.definitions import defs
from pipelines.resources import StoqResource, WarehouseResource
from preorders.sync import sync_orders
from sandbox import DEFAULT_API_KEY, SandboxConfig, Shop, mock_transport, serve
from stoq import StoqClient
from tests.pipelines.test_release_support import BASE_URL, applied
from warehouse import ledger

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@pytest.fixture
def shop() -> Shop:
    return Shop(SandboxConfig(orders=120, seed=11, rate_limit_points=1_000_000, job_steps=2))


@pytest.fixture
def server(shop):
    with serve(shop) as running:
        yield running


@pytest.fixture
def db(tmp_path, shop) -> str:
    path = str(tmp_path / "warehouse.duckdb")
    sync(shop, path)
    return path


def sync(shop: Shop, path: str) -> None:
    with (
        duckdb.connect(path) as conn,
        StoqClient(DEFAULT_API_KEY, BASE_URL, transport=mock_transport(shop)) as client,
    ):
        warehouse.schema.apply(conn)
        sync_orders(client, conn, run_id=f"sync-{len(shop.log)}", mode="full")


def releasable(path: str) -> list[int]:
    with duckdb.connect(path) as conn:
        return [c.order_id for c in ledger.releasable(conn)]


def ledger_rows(path: str, action: str = "release") -> list[dict]:
    with duckdb.connect(path) as conn:
        return ledger.rows(conn, action=action)


def run_job(name, server, path, instance, config) -> dg.ExecuteInProcessResult:
    op = {"release_orders": "release_held_orders", "collect_balances": "charge_balances"}[name]
    return defs.resolve_job_def(name).execute_in_process(
        run_config={**QUIET, "ops": {op: {"config": config}}},
        resources={
            "stoq": StoqResource(api_key=DEFAULT_API_KEY, base_url=server.base_url),
            "warehouse": WarehouseResource(database=path),
        },
        instance=instance,
    )


@pytest.fixture
def instance(dagster_home) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test(temp_dir=str(dagster_home)) as inst:
        yield inst


def test_definitions_resolve_the_jobs_and_the_sensor():
    assert defs.resolve_job_def("release_orders")
    assert defs.resolve_job_def("collect_balances")
    sensor = defs.resolve_sensor_def("releasable_orders_sensor")
    assert sensor.job_name == "release_orders"
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED


@pytest.mark.parametrize("bulk_threshold", [10_000, 1], ids=["singles", "bulk"])
def test_job_releases_once_under_lost_responses_and_reruns(
    server, shop, db, instance, bulk_threshold
):
    ids = releasable(db)
    assert len(ids) >= 10
    shop.set_chaos(drop_after_apply=0.5 if bulk_threshold > 1 else 1.0)
    config = {"order_ids": ids, "bulk_threshold": bulk_threshold, "dry_run": False}
    first = run_job("release_orders", server, db, instance, config)
    assert first.success
    shop.set_chaos(drop_after_apply=0.0)
    assert run_job("release_orders", server, db, instance, config).success
    # An hour later: a lost bulk submission's rows may now be judged (unknown_submission_hold).
    with duckdb.connect(db) as conn:
        conn.execute("update order_actions set sent_at = sent_at - interval 2 hour")
    for _ in range(3):  # re-ticks and reruns of the same run config
        assert run_job("release_orders", server, db, instance, config).success
        sync(shop, db)
    counts = applied(shop, [])
    assert set(counts) == set(ids) and set(counts.values()) == {1}
    states = {o["id"]: o["state"] for o in shop.truth_orders()}
    assert all(states[i] == "released" for i in ids)
    assert {r["status"] for r in ledger_rows(db)} <= {"succeeded", "failed", "skipped"}
    assert all(r["dagster_run_id"] for r in ledger_rows(db))


def op_config_default(job: str, op: str, name: str):
    """The default a field shows in the job's launch form."""
    ops = defs.resolve_job_def(job).run_config_schema.config_type.fields["ops"].config_type
    field = ops.fields[op].config_type.fields["config"].config_type.fields[name]
    return field.default_value if field.default_provided else None


def test_manual_launches_default_to_a_dry_run():
    assert op_config_default("release_orders", "release_held_orders", "dry_run") is True
    assert op_config_default("collect_balances", "charge_balances", "dry_run") is True


def test_release_orders_launched_with_an_empty_form_sends_nothing(server, shop, db, instance):
    ids = releasable(db)
    assert ids
    result = defs.resolve_job_def("release_orders").execute_in_process(
        run_config=QUIET,  # no op config at all: every field at its default
        resources={
            "stoq": StoqResource(api_key=DEFAULT_API_KEY, base_url=server.base_url),
            "warehouse": WarehouseResource(database=db),
        },
        instance=instance,
    )
    assert result.success and result.output_for_node("release_held_orders") == 0
    assert shop.count_requests("POST") == 0
    rows = ledger_rows(db)
    assert sorted(r["order_id"] for r in rows) == sorted(ids)
    assert {(r["dry_run"], r["status"]) for r in rows} == {(True, "planned")}
    assert releasable(db) == ids  # nothing was released


def test_job_refuses_force_without_a_reason(server, db, instance):
    with pytest.raises(dg.Failure, match="force needs a reason"):
        run_job("release_orders", server, db, instance, {"force": True})
    with pytest.raises(dg.Failure, match="a reason only goes with force"):
        run_job("release_orders", server, db, instance, {"reason": "VIP"})
    assert ledger_rows(db) == []


def test_collect_balances_job_is_a_dry_run_unless_told(server, shop, db, instance):
    dry = run_job("collect_balances", server, db, instance, {"limit": 3})
    assert dry.success and shop.count_requests("POST") == 0
    real = run_job("collect_balances", server, db, instance, {"limit": 3, "dry_run": False})
    assert real.success and real.output_for_node("charge_balances") == 3
    rows = [r for r in ledger_rows(db, "charge_balance") if not r["dry_run"]]
    assert [r["status"] for r in rows] == ["succeeded"] * 3


def cli_env(server, path) -> dict[str, str]:
    return {
        **os.environ,
        "STOQ_API_KEY": DEFAULT_API_KEY,
        "STOQ_BASE_URL": server.base_url,
        "PREORDERS_DUCKDB_PATH": path,
    }


def test_cli_release_prints_a_line_per_order(server, shop, db, monkeypatch, capsys):
    for key, value in cli_env(server, db).items():
        monkeypatch.setenv(key, value)
    ids = releasable(db)
    assert cli.main(["release", "--dry-run", "--limit", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [f"order {i}: release planned (dry run)" for i in ids[:2]]
    assert out[-1] == "2 planned" and shop.count_requests("POST") == 0
    assert cli.main(["release", "--order", str(ids[0])]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"order {ids[0]}: release succeeded",
        "1 succeeded",
    ]
    assert cli.main(["release", "--force"]) == 2
    assert "--force needs --reason" in capsys.readouterr().err
    assert cli.main(["charge", "--limit", "1"]) == 0
    assert "dry run" in capsys.readouterr().out
    assert shop.count_requests("POST") == 1


def test_two_processes_at_once_release_each_order_once(server, shop, db):
    ids = releasable(db)
    env = cli_env(server, db)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "release"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    counts = applied(shop, [])
    assert set(counts) == set(ids) and set(counts.values()) == {1}
    lines = [line for out, _ in outs for line in out.splitlines() if "release succeeded" in line]
    assert len(lines) == len(ids)
    posts = [e for e in shop.log if e["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["path"].endswith("/bulk_release")  # 21 orders: one job
