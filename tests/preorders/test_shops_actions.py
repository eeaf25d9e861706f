"""Two shops serving the same order ids (with the same data, so the same ledger keys) in one
warehouse: a release, charge, settle, review or export of one shop reads, writes and sends only
that shop's rows, with that shop's key."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import duckdb
import httpx
import pytest

import warehouse.schema
from preorders import actions
from preorders.actions import ActionSettings, review
from preorders.actions.operator import AmbiguousKey, SettleRefused, settle_by_hand
from preorders.actions.policy import ReleasePolicy, plan_tick, run_key
from preorders.exports import ExportRequest, fetch_and_load, submit
from preorders.jobtracking import track_job, track_status_url
from preorders.sync import sync_orders
from preorders.variants import submit_variant_job
from sandbox import FakeClock, SandboxConfig, Shop, Shops, mock_transport, shop_key
from stoq import StoqClient
from tests.preorders.ledger_rows import lost_submission, planned
from warehouse import jobs, ledger, ledger_review

BASE_URL = "http://sandbox.test/api/v2/external"
SINGLES = ActionSettings(bulk_threshold=10_000, stale_after=timedelta(0))
BULK = ActionSettings(bulk_threshold=1, stale_after=timedelta(0))
KEYS = {"a": shop_key(1), "b": shop_key(2)}


class Tokens(httpx.BaseTransport):
    """Forwards to the sandbox; remembers which shop's key each request carried."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str, str]] = []  # (shop, method, path)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("x-auth-token", "")
        shop = next((name for name, key in KEYS.items() if key == token), "?")
        self.sent.append((shop, request.method, request.url.path))
        return self.inner.handle_request(request)


@dataclass
class Two:
    """Shops a and b on one server, identical data (same ids, states, fingerprints, keys)."""

    shops: Shops
    clock: FakeClock
    path: Path
    conn: duckdb.DuckDBPyConnection
    transport: Tokens
    clients: list[StoqClient] = field(default_factory=list)

    def client(self, shop: str) -> StoqClient:
        client = StoqClient(
            KEYS[shop], BASE_URL, transport=self.transport,
            sleep=self.clock.sleep, clock=self.clock.monotonic, wall_clock=self.clock.time,
        )  # fmt: skip
        self.clients.append(client)
        return client

    def sync(self, shop: str) -> None:
        with self.client(shop) as client:
            sync_orders(client, self.conn, run_id=f"{shop}-sync", mode="full", shop=shop)

    def posts(self, shop: str) -> list[str]:
        """Paths of the writes the sandbox shop answered 2xx."""
        return [
            e["path"]
            for e in self.shops[shop].log
            if e["method"] == "POST" and 200 <= e["status"] < 300
        ]

    def rows(self) -> list[tuple[str, str, int, str]]:
        """Every ledger row as (shop, key, order id, status), by shop then key."""
        found = ledger.rows(self.conn, shop=None)
        return sorted((r["shop"], r["key"], r["order_id"], r["status"]) for r in found)


@pytest.fixture
def two(tmp_path: Path):
    clock = FakeClock()
    config = SandboxConfig(orders=60, seed=7, rate_limit_points=1_000_000, job_steps=2)
    shops = Shops(
        {"a": Shop(config, clock), "b": Shop(replace(config, api_keys=(KEYS["b"],)), clock)}
    )
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    warehouse.schema.apply(conn)
    world = Two(shops, clock, tmp_path / "w.duckdb", conn, Tokens(mock_transport(shops)))
    world.sync("a")
    world.sync("b")
    world.transport.sent.clear()
    yield world
    for client in world.clients:
        client.close()
    world.conn.close()


def test_the_two_shops_plan_the_same_orders_under_the_same_keys(two: Two) -> None:
    plan_a = actions.plan_release(two.conn, shop="a")
    plan_b = actions.plan_release(two.conn, shop="b")
    assert len(plan_a) >= 3 and [p.key for p in plan_a] == [p.key for p in plan_b]


def test_a_release_of_shop_b_sends_with_bs_key_and_writes_only_bs_rows(two: Two) -> None:
    ids = {p.order_id for p in actions.plan_release(two.conn, shop="b")}
    keys_a = [p.key for p in actions.plan_release(two.conn, shop="a")]
    states_a = {o["id"]: o["state"] for o in two.shops["a"].truth_orders()}
    with two.client("b") as client:
        done = actions.release(client, two.conn, settings=SINGLES, shop="b")
    assert {o.order_id for o in done if o.status == "succeeded"} == ids
    assert {s for s, _m, _p in two.transport.sent} == {"b"}
    assert two.posts("a") == [] and len(two.posts("b")) == len(ids)
    assert {r[0] for r in two.rows()} == {"b"}  # nothing of a's, nothing of `default`'s
    assert {r[3] for r in two.rows()} == {"succeeded"}
    # shop a: the same order ids, untouched, still planned under the very same keys
    assert [p.key for p in actions.plan_release(two.conn, shop="a")] == keys_a
    assert {o["id"]: o["state"] for o in two.shops["a"].truth_orders()} == states_a
    assert {o["id"]: o["state"] for o in two.shops["b"].truth_orders()} != states_a
    two.transport.sent.clear()
    with two.client("a") as client:
        again = actions.release(client, two.conn, settings=SINGLES, shop="a")
    assert {o.order_id for o in again if o.status == "succeeded"} == ids
    assert {s for s, _m, _p in two.transport.sent} == {"a"}
    # one key, two rows: one per shop
    per_key = two.conn.execute(
        "select key, list_sort(list(shop)) from order_actions group by key"
    ).fetchall()
    assert len(per_key) == len(ids) and {tuple(s) for _k, s in per_key} == {("a", "b")}


def test_a_bulk_release_records_its_job_as_its_shops(two: Two) -> None:
    with two.client("b") as client:
        done = actions.release(client, two.conn, settings=BULK, shop="b")
    assert done and {o.status for o in done} == {"succeeded"}
    found = two.conn.execute("select shop, job_id, kind from jobs").fetchall()
    assert [(s, k) for s, _j, k in found] == [("b", "bulk_release")]
    job_id = found[0][1]
    rows = ledger.rows(two.conn, shop="b")
    assert {(r["job_id"], r["bulk"]) for r in rows} == {(job_id, True)}
    assert jobs.get_job(two.conn, job_id) is None  # not shop `default`'s
    assert jobs.get_job(two.conn, job_id, shop="b") is not None
    with two.client("a") as client:  # shop a's job may carry the same id: its own row
        actions.release(client, two.conn, settings=BULK, shop="a")
    shops = two.conn.execute("select shop from jobs order by shop").fetchall()
    assert shops == [("a",), ("b",)]
    assert {s for s, _m, p in two.transport.sent if "bulk" in p} == {"a", "b"}


def test_a_charge_of_one_shop_charges_there_only(two: Two) -> None:
    owed = [p.order_id for p in actions.plan_charges(two.conn, shop="a")]
    assert owed
    with two.client("a") as client:
        done = actions.charge(client, two.conn, owed[:2], dry_run=False, settings=SINGLES, shop="a")
    assert {o.order_id for o in done} == set(owed[:2])
    assert two.posts("b") == [] and len(two.posts("a")) == 2
    assert {r[0] for r in two.rows()} == {"a"}
    assert [p.order_id for p in actions.plan_charges(two.conn, shop="b")] == owed


def test_open_rows_are_unclaimed_settled_and_reviewed_per_shop(two: Two) -> None:
    first, second = planned(two.conn, n=2, shop="a")
    for shop in ("a", "b"):  # the same key, open in both shops
        assert ledger.claim(two.conn, first, shop=shop) == first.key
    ledger.unclaim(two.conn, first.key, shop="a")
    assert [(r[0], r[3]) for r in two.rows()] == [("b", "planned")]
    ledger.unclaim(two.conn, first.key, shop="b")
    lost_submission(two.conn, [second], shop="a")
    lost_submission(two.conn, [second], shop="b")
    assert [r.key for r in ledger.unsettled(two.conn, shop="a")] == [second.key]
    assert ledger.unsettled(two.conn) == []  # shop `default` holds none
    # the review names each row's shop; one shop's review holds its rows only
    both = review.entries(two.conn)
    assert sorted(e.shop for e in both) == ["a", "b"] and {e.key for e in both} == {second.key}
    assert [e.shop for e in review.entries(two.conn, shop="b")] == ["b"]
    lines = review.as_lines(both)
    assert sum(line.endswith("  shop a") for line in lines) == 1
    assert sum(line.endswith("  shop b") for line in lines) == 1
    assert any(f"settle {second.key} --as" in line and "--shop a" in line for line in lines)
    facts = review.as_dict(both)
    assert sorted(r["shop"] for r in facts["rows"]["unknown"]) == ["a", "b"]
    (wait,) = review.waits(two.conn, "release", ActionSettings(), shop="a")
    assert wait.startswith("1 order waits")
    assert review.waits(two.conn, "release", ActionSettings()) == []
    # a's run settles a's row (read back with a's key); b's stays open
    hold0 = replace(SINGLES, unknown_submission_hold=timedelta(0))
    with two.client("a") as client:
        settled = actions.settle_open_rows(client, two.conn, "release", hold0, shop="a")
    assert [o.order_id for o in settled] == [second.order_id]
    assert {s for s, _m, _p in two.transport.sent} == {"a"}
    assert [(r[0], r[3]) for r in two.rows()] == [("a", "failed"), ("b", "unknown")]


def test_settling_by_hand_names_the_shop_when_a_key_is_in_two(two: Two) -> None:
    item, only_b = planned(two.conn, n=2, shop="b")
    lost_submission(two.conn, [item], ago=timedelta(hours=2), shop="a")
    lost_submission(two.conn, [item, only_b], ago=timedelta(hours=2), shop="b")
    with pytest.raises(AmbiguousKey, match=r"in 2 shops \(a, b\): name one with --shop"):
        settle_by_hand(two.conn, item.key, applied=True, reason="seen in admin", by="ana")
    assert {r[3] for r in two.rows()} == {"unknown"}  # nothing settled
    done = settle_by_hand(
        two.conn, item.key, applied=False, reason="not in admin", by="ana", shop="a"
    )
    assert done.shop == "a" and "(shop a, order" in done.line()
    assert [(r[0], r[1], r[3]) for r in two.rows() if r[1] == item.key] == [
        ("a", item.key, "failed"), ("b", item.key, "unknown"),
    ]  # fmt: skip
    assert (ledger_review.row(two.conn, item.key, shop="b") or {})["settled_by"] is None
    # a key only one shop holds needs no --shop
    alone = settle_by_hand(two.conn, only_b.key, applied=True, reason="seen", by="ana")
    assert alone.shop == "b"
    with pytest.raises(SettleRefused, match="no ledger row of shop a has the key"):
        settle_by_hand(two.conn, only_b.key, applied=True, reason="seen", by="ana", shop="a")


def test_the_sensor_plans_one_shop_and_its_run_key_names_it(two: Two) -> None:
    two.conn.close()
    try:
        policy = ReleasePolicy(max_share=1.0, breaker_floor=1000)
        tick_a = plan_tick(str(two.path), policy, shop="a")
        tick_b = plan_tick(str(two.path), policy, shop="b")
        empty = plan_tick(str(two.path), policy)
    finally:
        two.conn = duckdb.connect(str(two.path))
    assert tick_a.batch and tick_a.batch == tick_b.batch and not empty.batch
    key_a = run_key(tick_a.batch, False, 3, shop="a")
    key_b = run_key(tick_b.batch, False, 3, shop="b")
    assert key_a != key_b and key_a.startswith("release-a-") and key_b.startswith("release-b-")
    pairs = sorted((p.order_id, p.key) for p in tick_a.batch)
    before_shops = hashlib.sha256(json.dumps([3, pairs]).encode()).hexdigest()[:24]
    assert run_key(tick_a.batch, False, 3) == f"release-{before_shops}"  # unchanged for default


def test_two_shops_exports_of_one_report_keep_both(two: Two) -> None:
    counts = {}
    for shop in ("a", "b"):
        with two.client(shop) as client:
            handle = submit(client, two.conn, ExportRequest("by_state"), shop=shop)
            status = track_job(client, two.conn, handle, shop=shop)
        counts[shop] = fetch_and_load(
            two.conn, "by_state", status, transport=two.transport, shop=shop
        )
    assert counts["a"] > 0 and counts["b"] > 0
    loaded = two.conn.execute("select shop, count(*) from export_by_state group by 1 order by 1")
    assert loaded.fetchall() == [("a", counts["a"]), ("b", counts["b"])]
    # the same batch key in both shops: b submitted its own export, never re-attached to a's
    found = two.conn.execute("select shop, kind, batch_key from jobs order by shop").fetchall()
    assert [(s, k) for s, k, _b in found] == [("a", "export"), ("b", "export")]
    assert found[0][2] == found[1][2]
    assert len([p for s, m, p in two.transport.sent if m == "POST" and s == "b"]) == 1


def test_a_variant_job_is_saved_as_its_shops(two: Two) -> None:
    with two.client("b") as client:
        handle = submit_variant_job(client, two.conn, "bulk_recalculate_preorder_counts", shop="b")
    assert [j["shop"] for j in jobs.open_jobs(two.conn, shop=None)] == ["b"]
    assert jobs.open_jobs(two.conn, shop="a") == []
    with two.client("b") as client:  # polled by its status_url alone, as `preorders jobs poll`
        track_status_url(client, two.conn, handle.status_url, shop="b")
    polled = jobs.get_job(two.conn, handle.job_id, shop="b") or {}
    assert polled["kind"] == "bulk_variants" and polled["finished_at"] is not None
    assert jobs.get_job(two.conn, handle.job_id, shop="a") is None
    assert jobs.get_job(two.conn, handle.job_id) is None
