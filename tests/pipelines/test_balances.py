"""`preorders.actions.charge` through the ledger: dry run by default, one charge per order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from preorders import actions
from preorders.actions import ActionSettings
from preorders.actions.sending import send_one
from tests.pipelines.test_release_support import SINGLE_CHARGE, applied, make_world
from warehouse import ledger

# Judge open rows at once: stale sent rows, and charges not applied right after they were sent.
NOW = ActionSettings(stale_after=timedelta(0), charge_pending_hold=timedelta(0))


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path, orders=60)
    yield w
    w.close()


def awaiting(world) -> list[int]:
    return [c.order_id for c in ledger.awaiting_balance(world.conn)]


def test_dry_run_is_the_default_and_charges_nothing(world):
    ids = awaiting(world)
    assert ids
    before = world.shop.count_requests()
    with world.client() as client:
        out = actions.charge(client, world.conn)
    assert {o.status for o in out} == {"planned"} and len(out) == len(ids)
    assert world.shop.count_requests() == before
    assert [p.order_id for p in actions.plan_charges(world.conn)] == ids


@pytest.mark.parametrize(
    "chaos", [{}, {"drop_after_apply": 1.0}, {"error_5xx": 0.3, "drop": 0.2, "burst_429": 0.2}]
)
def test_each_balance_is_charged_at_most_once(world, chaos):
    ids = set(awaiting(world))
    world.shop.set_chaos(chaos)
    for _ in range(3):  # reruns and re-ticks
        with world.client() as client:
            actions.charge(client, world.conn, dry_run=False, settings=NOW)
        world.sync()
    counts = applied(world.shop, world.transport.sent, SINGLE_CHARGE)
    assert set(counts.values()) <= {1} and set(counts) <= ids
    rows = ledger.rows(world.conn, action="charge_balance")
    succeeded = {r["order_id"] for r in rows if r["status"] == "succeeded"}
    assert succeeded == set(counts)
    states = world.states()
    assert all(states[i] == "balance_collected" for i in succeeded)
    if not chaos or "drop_after_apply" in chaos:
        assert succeeded == ids  # a lost response is settled by read-back, never re-charged
    assert {r["status"] for r in rows} <= {"succeeded", "failed", "skipped"}


def test_a_charge_read_back_as_not_applied_is_not_retried(world):
    target = awaiting(world)[0]

    def fail_after_the_pre_read(request, entry):
        if request.method == "GET" and request.url.path.endswith(f"/orders/{target}"):
            world.shop.set_chaos(error_5xx=1.0)  # the POST and its read-back answer 5xx

    world.transport.after = fail_after_the_pre_read
    with world.client() as client:
        (out,) = actions.charge(client, world.conn, [target], dry_run=False)
    assert out.status == "unknown"  # the read-back hit 5xx too
    world.transport.after = None
    world.shop.set_chaos(error_5xx=0.0)
    with world.client() as client:  # within the hold a late charge may still land: unknown
        held = actions.charge(client, world.conn, [target], dry_run=False)
    assert [o.status for o in held] == ["unknown", "skipped"]
    assert "not applied yet" in held[0].detail and "still unsettled" in held[1].detail
    with world.client() as client:
        settled = actions.charge(client, world.conn, [target], dry_run=False, settings=NOW)
    assert [o.status for o in settled] == ["failed", "skipped"]
    assert "not applied (read back)" in settled[0].detail
    assert world.shop.count_requests("POST") == 1


def test_offer_scope_and_409(world):
    offer = next(
        o["offer_ids"][0] for o in world.shop.truth_orders() if o["state"] == "awaiting_balance"
    )
    scoped = [p.order_id for p in actions.plan_charges(world.conn, offer_id=offer)]
    truth = {o["id"]: o for o in world.shop.truth_orders()}
    assert scoped and all(offer in truth[i]["offer_ids"] for i in scoped)
    target = scoped[0]
    (row,) = ledger.orders_by_id(world.conn, [target], "charge_balance")
    item = ledger.next_keys(world.conn, "charge_balance", [row])[0]
    ledger.claim(world.conn, item)
    world.shop.orders.get(target).charge_balance(world.clock.time())  # paid elsewhere
    with world.client() as client:
        out = send_one(client, world.conn, actions.CHARGE, item)
    assert out.status == "rejected" and "nothing is outstanding" in out.detail
    with world.client() as client:
        rest = actions.charge(client, world.conn, offer_id=offer, dry_run=False, settings=NOW)
    assert target not in {o.order_id for o in rest}
    assert {o.status for o in rest} <= {"succeeded"}
