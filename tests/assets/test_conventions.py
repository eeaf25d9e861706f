"""Dagster's conventions on the sync assets: table metadata, owners/kinds/tags, freshness, no PII.

One real materialization (real resources, the sandbox over loopback, a DuckDB file in tmp_path)
is read back: its `dagster/*` table metadata against DuckDB's own count and DESCRIBE, and every
metadata value of it scanned for the shop's customer names and emails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

import sandbox
from assets.checks import ASSET_CHECKS
from assets.metadata import column_schema
from assets.resources import StoqResource, WarehouseResource
from assets.sync_assets import offers_assets, orders_assets
from pipelines.definitions import defs
from pipelines.schedules import hourly_sync_schedule
from tests.assets.helpers import mature

TABLES = ("offers", "offer_variants", "orders", "order_line_items")
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Synced:
    """A materialized sync: the run's result, its DuckDB file, the shop it read."""

    result: dg.ExecuteInProcessResult
    db: Path
    shop: sandbox.Shop


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Synced:
    folder = tmp_path_factory.mktemp("conventions")
    home = folder / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    db = folder / "w.duckdb"
    config = sandbox.SandboxConfig(orders=300, rate_limit_points=100_000)
    with sandbox.serve(config) as running, dg.instance_for_test(temp_dir=str(home)) as instance:
        mature(running.shop)
        result = dg.materialize(
            [offers_assets, orders_assets, *ASSET_CHECKS],
            resources={
                "stoq": StoqResource(api_key=sandbox.DEFAULT_API_KEY, base_url=running.base_url),
                "warehouse": WarehouseResource(database=str(db)),
            },
            instance=instance,
            partition_key="default",  # the one shop without a shops file
        )
    assert result.success
    return Synced(result, db, running.shop)


def windows(policy: Any) -> tuple[timedelta, timedelta]:
    """(warn, fail) windows of a time-window freshness policy."""
    return policy.warn_window.to_timedelta(), policy.fail_window.to_timedelta()


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """`{table: {label: value}}` of the run's materializations."""
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        out[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return out


def test_row_count_is_the_tables_count_in_duckdb(synced: Synced) -> None:
    meta = metadata(synced.result)
    assert set(meta) == set(TABLES)
    with duckdb.connect(str(synced.db), read_only=True) as conn:
        counts = {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}
    assert {t: meta[t]["dagster/row_count"] for t in TABLES} == counts
    assert counts["orders"] == 300 and all(counts.values())
    for table in TABLES:  # the sync's own figures stay; the old label is gone
        assert {"pages", "requests", "rate_limited_429", "duration_s"} <= set(meta[table])
        assert "table_rows" not in meta[table]


def test_column_schema_is_duckdbs_describe_and_table_name_is_qualified(synced: Synced) -> None:
    meta = metadata(synced.result)
    with duckdb.connect(str(synced.db), read_only=True) as conn:
        for table in TABLES:
            described = conn.execute(f"describe {table}").fetchall()
            schema = meta[table]["dagster/column_schema"]
            assert isinstance(schema, dg.TableSchema)
            shown = [(c.name, c.type, c.constraints.nullable) for c in schema.columns]
            assert shown == [(name, kind, null == "YES") for name, kind, null, *_ in described]
            assert meta[table]["dagster/table_name"] == f"w.main.{table}"  # database.schema.table
    orders = {c.name: c for c in meta["orders"]["dagster/column_schema"].columns}
    assert not orders["id"].constraints.unique and not orders["id"].constraints.nullable
    assert meta["orders"]["dagster/column_schema"].constraints.other == ["primary key (shop, id)"]
    variants = meta["offer_variants"]["dagster/column_schema"]
    assert variants.constraints.other == ["primary key (shop, offer_id, shopify_variant_id)"]
    assert not any(c.constraints.unique for c in variants.columns)  # a two-column key


def test_no_customer_name_or_email_in_any_metadata(synced: Synced) -> None:
    customers = {o.customer.email for o in synced.shop.orders}
    customers |= {o.customer.name for o in synced.shop.orders}
    with duckdb.connect(str(synced.db), read_only=True) as conn:  # the scan has something to find
        stored = conn.execute("select list(customer_email) from orders").fetchone()[0]
    assert len(customers) > 10 and set(stored) & customers
    materialized = metadata(synced.result)
    assert "customer_email" in repr(materialized["orders"])  # column names are not values
    texts = [repr(meta) for meta in materialized.values()]
    texts += [repr(e.metadata) for e in synced.result.get_asset_check_evaluations()]
    for node in defs.resolve_asset_graph().asset_nodes:  # what the definitions show, too
        texts.append(repr((node.metadata, node.tags, node.description, node.owners)))
    leaked = sorted(c for c in customers if any(c in text for text in texts))
    assert not leaked, f"customer data in metadata: {leaked[:5]}"


@pytest.mark.parametrize("table", TABLES)
def test_each_synced_asset_has_owner_kinds_tags_and_a_freshness_policy(table: str) -> None:
    node = defs.resolve_asset_graph().get(dg.AssetKey(table))
    assert node.owners == ["team:preorders"]
    assert {"duckdb", "table"} <= set(node.kinds)
    assert node.tags["source"] == "stoq"
    assert node.tags["pii"] == ("true" if table == "orders" else "false")
    policy = node.freshness_policy
    assert isinstance(policy, dg.FreshnessPolicy)
    assert windows(policy) == (2 * HOUR, 3 * HOUR)


def test_the_freshness_windows_fit_the_hourly_schedule() -> None:
    minute, *rest = hourly_sync_schedule.cron_schedule.split()
    assert minute.isdigit() and rest == ["*"] * 4, "the windows assume one sync an hour"
    warn, fail = windows(defs.resolve_asset_graph().get(dg.AssetKey("orders")).freshness_policy)
    assert HOUR < warn < fail  # a late run (or one missed) warns; it never fails
    assert 2 * HOUR < fail <= 3 * HOUR  # two missed runs fail


def test_the_hand_written_freshness_checks_are_gone() -> None:
    names = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert names and not {n for n in names if "synced_recently" in n}


def test_column_schema_marks_a_single_column_key_unique_and_states_the_key() -> None:
    schema = column_schema(
        [
            {"name": "id", "type": "BIGINT", "nullable": False, "in_key": True},
            {"name": "name", "type": "VARCHAR", "nullable": True, "in_key": False},
        ]
    )
    assert [(c.name, c.type) for c in schema.columns] == [("id", "BIGINT"), ("name", "VARCHAR")]
    assert [c.constraints.unique for c in schema.columns] == [True, False]
    assert [c.constraints.nullable for c in schema.columns] == [False, True]
    assert schema.constraints.other == ["primary key (id)"]


@pytest.mark.parametrize("key", ["backlog_report", "stoq_manifest"])
def test_the_other_assets_have_an_owner_and_kinds(key: str) -> None:
    node = defs.resolve_asset_graph().get(dg.AssetKey(key))
    assert node.owners == ["team:preorders"]
    assert "duckdb" in node.kinds and node.tags["source"] == "stoq"
