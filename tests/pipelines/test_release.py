"""Release through the ledger (plain Python): exactly once under every fault the sandbox injects."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from preorders import actions
from preorders.actions import ActionSettings, ForceWithoutReason
from preorders.actions.sending import send_one
from tests.pipelines.test_release_support import (
    applied,
    force_in_bodies,
    make_world,
    single_release_bodies,
)
from warehouse import ledger

SINGLES = ActionSettings(bulk_threshold=10_000, stale_after=timedelta(0))
BULK = ActionSettings(bulk_threshold=1, stale_after=timedelta(0), job_initial_interval=0.1)


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path)
    yield w
    w.close()


def releasable_ids(world) -> list[int]:
    return [c.order_id for c in ledger.releasable(world.conn)]


def assert_exactly_once(world, expected: set[int], before: dict[int, str]) -> None:
    counts = applied(world.shop, world.transport.sent)
    assert set(counts) == expected, "only the releasable orders were released"
    assert set(counts.values()) == {1}, "each order got exactly one applied release"
    after = world.states()
    changed = {i for i in before if before[i] != after[i]}
    assert changed == expected
    assert all(after[i] == "released" for i in expected)
    assert force_in_bodies(world.transport.sent) == []
    assert all(body is None for body in single_release_bodies(world.transport.sent))


def test_dry_run_plans_writes_nothing_and_does_not_block(world):
    ids = releasable_ids(world)
    assert len(ids) >= 8
    plan = actions.plan_release(world.conn, limit=3)
    assert [p.order_id for p in plan] == ids[:3]
    synced = world.shop.count_requests()
    with world.client() as client:
        outcomes = actions.release(client, world.conn, dry_run=True)
    assert {o.status for o in outcomes} == {"planned"} and len(outcomes) == len(ids)
    assert world.shop.count_requests() == synced
    assert all(r["dry_run"] for r in ledger.rows(world.conn))
    assert [p.order_id for p in actions.plan_release(world.conn)] == ids


def test_release_happy_path_then_rerun_sends_nothing(world):
    ids = set(releasable_ids(world))
    before = world.states()
    with world.client() as client:
        first = actions.release(client, world.conn, settings=SINGLES)
        posts = world.shop.count_requests("POST")
        again = actions.release(client, world.conn, settings=SINGLES)
    assert {o.order_id for o in first if o.status == "succeeded"} == ids
    assert again == [] and world.shop.count_requests("POST") == posts == len(ids)
    assert_exactly_once(world, ids, before)
    rows = ledger.rows(world.conn, action="release")
    assert {r["status"] for r in rows} == {"succeeded"}
    assert all(r["sent_at"] and r["settled_at"] and r["http_status"] == 202 for r in rows)


@pytest.mark.parametrize(
    "chaos",
    [
        {"drop_after_apply": 0.5},
        {"burst_429": 0.3, "burst_length": 2},
        {"error_5xx": 0.3},
        {"drop": 0.3},
        {"error_5xx": 0.15, "drop_after_apply": 0.3, "burst_429": 0.1, "drop": 0.1},
    ],
    ids=["drop_after_apply", "429", "5xx", "drop", "mixed"],
)
@pytest.mark.parametrize("settings", [SINGLES, BULK], ids=["singles", "bulk"])
def test_exactly_once_under_faults(world, chaos, settings):
    ids = set(releasable_ids(world))
    before = world.states()
    settings = replace(settings, max_attempts=12, retry_backoff=())  # retries at once
    world.shop.set_chaos(chaos)
    runs = 0
    while runs < 12 and any(world.states()[i] != "released" for i in ids):
        runs += 1
        with world.client() as client:
            actions.release(client, world.conn, settings=settings)
        world.sync()  # the next run sees released orders as changed
    with world.client() as client:  # a final re-tick and settle: nothing more goes out
        world.shop.set_chaos({k: 0 for k in chaos})
        actions.release(client, world.conn, settings=settings)
    assert_exactly_once(world, ids, before)
    statuses = {r["status"] for r in ledger.rows(world.conn, action="release")}
    assert statuses <= {"succeeded", "failed", "skipped", "not_sent"}


def test_lost_response_is_settled_by_read_back_not_by_a_second_post(world):
    world.shop.set_chaos(drop_after_apply=1.0)
    (target, *_) = releasable_ids(world)
    with world.client() as client:
        (outcome,) = actions.release(client, world.conn, [target], settings=SINGLES)
    assert outcome.status == "succeeded" and "read back" in outcome.detail
    assert world.shop.count_requests("POST", f"/preorders/orders/{target}/release") == 1


def test_unknown_when_the_read_back_fails_then_settled_by_the_next_run(world):
    (target, *_) = releasable_ids(world)
    calls = []

    def fail_reads_after_the_post(request, entry):
        if request.method == "POST":
            calls.append(entry)
            world.shop.set_chaos(error_5xx=1.0)  # the response below is already a 202...

    world.transport.after = fail_reads_after_the_post
    world.shop.set_chaos(drop_after_apply=1.0)
    with world.client() as client:
        (outcome,) = actions.release(client, world.conn, [target], settings=SINGLES)
    assert outcome.status == "unknown"
    world.transport.after = None
    world.shop.set_chaos(error_5xx=0.0, drop_after_apply=0.0)
    with world.client() as client:
        settled = actions.release(client, world.conn, [target], settings=SINGLES)
    assert [o.status for o in settled] == ["succeeded", "skipped"]
    assert world.shop.count_requests("POST") == len(calls) == 1


def test_409_is_rejected_with_hint_not_retried_until_the_order_changes(world):
    unpaid = next(o["id"] for o in world.shop.truth_orders() if o["state"] == "awaiting_balance")
    (row,) = ledger.orders_by_id(world.conn, [unpaid])
    # The order looks paid in the warehouse but is not: force a 409 by releasing it as if paid.
    item = ledger.next_keys(world.conn, "release", [row])[0]
    ledger.claim(world.conn, item)
    with world.client() as client:
        outcome = send_one(client, world.conn, actions.RELEASE, item)
    assert outcome.status == "rejected" and "Charge the balance first" in outcome.detail
    (ledger_row,) = ledger.rows(world.conn, order_id=unpaid)
    assert (ledger_row["status"], ledger_row["http_status"]) == ("rejected", 409)
    assert "balance" in ledger_row["hint"]
    with world.client() as client:  # unchanged: not retried
        again = actions.release(client, world.conn, [unpaid], settings=SINGLES)
    assert [o.status for o in again] == ["skipped"] and "already handled" in again[0].detail
    assert world.shop.count_requests("POST") == 1
    world.shop.orders.get(unpaid).charge_balance(world.clock.time())  # paid: it changed
    world.sync()
    with world.client() as client:
        (released,) = actions.release(client, world.conn, [unpaid], settings=SINGLES)
    assert released.status == "succeeded"
    assert world.states()[unpaid] == "released"


def test_stale_order_is_skipped_after_the_pre_read(world):
    (target, *_) = releasable_ids(world)
    world.shop.orders.get(target).cancel(world.clock.time())  # cancelled after the last sync
    with world.client() as client:
        (outcome,) = actions.release(client, world.conn, [target], settings=SINGLES)
    assert (outcome.status, outcome.detail) == ("skipped", "the order is cancelled")
    assert world.shop.count_requests("POST") == 0


def test_force_needs_a_reason_and_is_recorded(world):
    unpaid = next(o["id"] for o in world.shop.truth_orders() if o["state"] == "awaiting_balance")
    with world.client() as client, pytest.raises(ForceWithoutReason):
        actions.release(client, world.conn, [unpaid], force=True)
    with world.client() as client:
        plain = actions.release(client, world.conn, [unpaid], settings=SINGLES)
        forced = actions.release(
            client, world.conn, [unpaid], force=True, reason="VIP, paid by phone", settings=SINGLES
        )
    assert plain[0].status == "skipped" and "not held and fully paid" in plain[0].detail
    assert forced[0].status == "succeeded" and forced[0].forced
    bodies = single_release_bodies(world.transport.sent)
    assert bodies == [{"force": True}]
    row = ledger.rows(world.conn, order_id=unpaid)[-1]
    assert (row["forced"], row["force_reason"]) == (True, "VIP, paid by phone")


def test_two_runs_at_once_release_each_order_once(world):
    ids = set(releasable_ids(world))
    before = world.states()
    barrier = threading.Barrier(2)
    results: list[list] = []

    def run(settings):
        cursor = world.conn.cursor()
        with world.client() as client:
            barrier.wait()
            results.append(actions.release(client, cursor, settings=settings))
        cursor.close()

    threads = [threading.Thread(target=run, args=(s,)) for s in (SINGLES, SINGLES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert_exactly_once(world, ids, before)
    wins = [o.order_id for r in results for o in r if o.status == "succeeded"]
    assert sorted(wins) == sorted(ids)


def test_bulk_release_reads_back_every_order_and_records_swallowed_failures(world):
    ids = releasable_ids(world)
    victims = ids[:3]

    def cancel_some_after_submit(request, entry):
        if request.url.path.endswith("/bulk_release") and entry.status == 202:
            for order_id in victims:  # the merchant cancels them while the job queues
                world.shop.orders.get(order_id).cancel(world.clock.time())

    world.transport.after = cancel_some_after_submit
    before = world.states()
    with world.client() as client:
        outcomes = actions.release(client, world.conn, settings=BULK)
    assert world.shop.count_requests("POST") == 1  # one bulk job, not one POST per order
    by_id = {o.order_id: o for o in outcomes}
    assert {by_id[i].status for i in victims} == {"rejected"}
    assert all("not applied (read back)" in by_id[i].detail for i in victims)
    assert {by_id[i].status for i in ids[3:]} == {"succeeded"}
    rows = {r["order_id"]: r for r in ledger.rows(world.conn, action="release")}
    assert len({r["job_id"] for r in rows.values()}) == 1 and rows[ids[0]]["job_id"]
    counts = applied(world.shop, world.transport.sent)
    assert set(counts.values()) == {1} and set(counts) == set(ids)
    after = world.states()
    assert {i for i in before if before[i] != after[i]} == set(ids)
    (job,) = world.conn.execute("select last_status from jobs").fetchall()
    assert job == ("completed",)


def test_lost_bulk_submission_stays_unknown_then_is_settled_and_retried_once(world):
    ids = set(releasable_ids(world))
    world.shop.set_chaos(drop_after_apply=1.0)
    with world.client() as client:
        first = actions.release(client, world.conn, settings=BULK)
    assert {o.status for o in first} == {"unknown"}  # the job may still run: never re-posted
    world.shop.set_chaos(drop_after_apply=0.0)
    posts = world.shop.count_requests("POST")
    with world.client() as client:  # within unknown_submission_hold: still unknown, nothing sent
        held = actions.release(client, world.conn, settings=BULK)
    assert {o.status for o in held} == {"unknown"} and len(held) == len(ids)
    assert world.shop.count_requests("POST") == posts
    # The hold and the retry backoff have passed.
    later = replace(BULK, unknown_submission_hold=timedelta(0), retry_backoff=())
    with world.client() as client:
        second = actions.release(client, world.conn, settings=later)
    settled = [o for o in second if "read back" in o.detail and o.status == "failed"]
    assert len(settled) == len(ids)  # the orphaned job never ran in the sandbox
    assert {o.order_id for o in second if o.status == "succeeded"} == ids
    counts = applied(world.shop, world.transport.sent)
    assert set(counts.values()) == {1} and set(counts) == ids


def test_limit_and_named_orders_explain_what_was_not_planned(world):
    ids = releasable_ids(world)
    with world.client() as client:
        out = actions.release(client, world.conn, [ids[0], ids[1], 42], dry_run=True, limit=1)
    lines = sorted(o.line() for o in out)
    assert f"order {ids[0]}: release planned (dry run)" in lines
    assert f"order {ids[1]}: release skipped: over the limit" in lines
    assert "order 42: release skipped: not in the warehouse; run a sync first" in lines
    assert all(len(line) < 120 and "key" not in line for line in lines)
