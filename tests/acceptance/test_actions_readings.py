"""Release and charge exactly once when writes, bulk jobs and the network misbehave."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from preorders import actions
from preorders.actions import ActionSettings
from sandbox import ChaosConfig
from tests.acceptance.support import (
    applied_releases,
    assert_truth,
    forced,
    releasable_truth,
    world,
)

# No retry backoff: a release that failed on a fault goes out again on the very next run here.
SINGLES = ActionSettings(bulk_threshold=10_000, stale_after=timedelta(0), retry_backoff=())
BULK = ActionSettings(
    bulk_threshold=1, stale_after=timedelta(0), job_initial_interval=1.0, retry_backoff=()
)


def release(w: Any, settings: ActionSettings) -> list[actions.Outcome]:
    with w.client() as client, duckdb.connect(str(w.db)) as conn:
        return actions.release(client, conn, settings=settings)


def assert_released_once(w: Any, expected: set[int]) -> None:
    counts = applied_releases(w.shop)
    assert set(counts) == expected and set(counts.values()) <= {1}
    states = {o["shopify_order_id"]: o["state"] for o in w.shop.truth_orders()}
    assert all(states[i] == "released" for i in expected)
    assert forced(w.recorder) == []


WRITES: dict[str, dict[str, Any]] = {
    "200_full": {"write_status": 200},
    "202_empty": {"write_body": "empty"},
    "202_minimal": {"write_body": "minimal"},
    "200_empty_distinct": {"write_status": 200, "write_body": "empty", "order_ids": "distinct"},
}


@pytest.mark.parametrize("reading", list(WRITES))
def test_single_releases_settle_under_every_write_answer(tmp_path: Path, reading: str) -> None:
    w = world(tmp_path, orders=120, **WRITES[reading])
    w.sync("full")
    expected = releasable_truth(w.shop)
    assert expected
    outcomes = release(w, SINGLES)
    assert {o.order_id for o in outcomes if o.status == "succeeded"} == expected
    assert all(o.detail == "" or "applied" in o.detail for o in outcomes)
    assert_released_once(w, expected)
    assert release(w, SINGLES) == []  # a rerun sends nothing


@pytest.mark.parametrize("reading", list(WRITES))
def test_charges_settle_under_every_write_answer(tmp_path: Path, reading: str) -> None:
    w = world(tmp_path, orders=120, **WRITES[reading])
    w.sync("full")
    owing = {
        o["shopify_order_id"] for o in w.shop.truth_orders() if o["state"] == "awaiting_balance"
    }
    with w.client() as client, duckdb.connect(str(w.db)) as conn:
        outcomes = actions.charge(client, conn, dry_run=False, settings=SINGLES)
    assert {o.order_id for o in outcomes if o.status == "succeeded"} == owing
    charges = [e for e in w.shop.log if e["path"].endswith("/payments/charge_balance")]
    assert len(charges) == len(owing)


BULKS: dict[str, dict[str, Any]] = {
    "relative_status_url": {},
    "absolute_status_url": {"status_url_style": "absolute"},
    "job_404_once": {"job_404_polls": 1},
    "job_404_twice_absolute": {"job_404_polls": 2, "status_url_style": "absolute"},
}


@pytest.mark.parametrize("reading", list(BULKS))
def test_bulk_release_exactly_once(tmp_path: Path, reading: str) -> None:
    w = world(tmp_path, orders=120, job_steps=2, **BULKS[reading])
    w.sync("full")
    expected = releasable_truth(w.shop)
    outcomes = release(w, BULK)
    assert {o.order_id for o in outcomes if o.status == "succeeded"} == expected
    assert_released_once(w, expected)
    assert release(w, BULK) == []


HOSTILE = ChaosConfig(
    error_5xx=0.05, burst_429=0.03, drop=0.03, truncate=0.03, drop_after_apply=0.1,
    new_orders_during_walk=2, drift_every=5,
)  # fmt: skip
STRICT = {
    "per_page_max": 50, "per_page_over_max": "error", "order_sort": "oldest_first",
    "meta_style": "first_page_only", "page_past_end": "404", "order_ids": "distinct",
    "money_format": "number", "timestamp_format": "fractional", "extra_fields": True,
    "null_customers": True, "window_values": "date_only", "from_exclusive": True,
    "rate_limit_points": 120, "rate_limit_hints": "http_date", "rate_limit_body": "errors",
    "write_status": 200, "write_body": "empty", "status_url_style": "absolute",
    "job_404_polls": 1, "job_error_style": "object", "job_steps": 2,
}  # fmt: skip


@pytest.mark.parametrize("bulk", [False, True], ids=["singles", "bulk"])
def test_hostile_profile_end_to_end(tmp_path: Path, bulk: bool) -> None:
    """Every strict reading and fault at once: sync, drift, incremental, reconcile, release."""
    w = world(tmp_path, orders=250, chaos=HOSTILE, **STRICT)
    w.sync("full", run_id="full")
    w.shop.mutate(new_orders=15, pay_balances=10, release=3, cancel=3, refund=2, fulfill=2)
    w.sync("incremental", run_id="incr")
    w.shop.mutate(pay_balances=6)
    w.sync("incremental", run_id="incr2")
    w.shop.set_chaos(new_orders_during_walk=0)
    reconcile = w.sync("full", run_id="reconcile")
    assert reconcile["orders"].complete
    assert_truth(w)
    assert sum(w.log_count(s) for s in (500, 502, 503, 429)) > 0  # the faults really bit
    expected = releasable_truth(w.shop)
    assert expected
    settings = BULK if bulk else SINGLES
    release(w, settings)
    release(w, settings)  # settles anything left unknown, never sends twice
    assert_released_once(w, expected)
    w.shop.set_chaos(error_5xx=0.0, drop=0.0, truncate=0.0, burst_429=0.0)
    assert release(w, settings) == []


def test_ledger_records_the_status_the_server_sent(tmp_path: Path) -> None:
    from warehouse import ledger

    w = world(tmp_path, orders=60, write_status=200)
    w.sync("full")
    release(w, SINGLES)
    with duckdb.connect(str(w.db)) as conn:
        rows = ledger.rows(conn, action="release")
    assert rows and {r["http_status"] for r in rows} == {200}
