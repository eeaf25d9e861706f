"""Ledger safety found in review: a charge is never sent twice, a running bulk job never re-sent.

Charges may settle after their 202 (SPEC §3.4) and a later sync changes the order's raw
(updated_at, tags): neither may open a second charge. Release keys ignore unrelated changes too.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from pipelines import actions
from pipelines.actions import ActionSettings
from tests.pipelines.test_release_support import World, make_world
from warehouse import ledger

CHARGE_POST = re.compile(r"/preorders/orders/(\d+)/payments/charge_balance$")
NOW = ActionSettings(stale_after=timedelta(0))  # the default 1 h charge hold
JUDGE = ActionSettings(stale_after=timedelta(0), charge_pending_hold=timedelta(0))


class AsyncCharge(httpx.BaseTransport):
    """STOQ per SPEC §3.4 [I]: charge_balance answers 202 with the order as it stands right after
    the attempt (still awaiting_balance, updated_at bumped); the charge lands later, if ever."""

    def __init__(self, world: World, answer: int = 202) -> None:
        self.world, self.inner, self.answer = world, world.transport, answer
        self.posts: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        match = CHARGE_POST.search(request.url.path)
        if request.method == "POST" and match:
            order = self.world.shop.orders.get(int(match.group(1)))
            self.posts.append(order.id)
            order.set_tags([*order.tags, "charge-attempted"], self.world.clock.time() + 1)
            if self.answer != 202:  # the response is lost (5xx): the client cannot tell
                return httpx.Response(self.answer, json={"errors": ["upstream timeout"]})
            return httpx.Response(202, json=order.render())
        return self.inner.handle_request(request)


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path, orders=60)
    yield w
    w.close()


def charge(world: World, target: int, settings: ActionSettings = NOW) -> list[actions.Outcome]:
    with world.client() as client:
        return actions.collect_balances(
            client, world.conn, [target], dry_run=False, settings=settings
        )


def owing(world: World) -> int:
    return ledger.awaiting_balance(world.conn)[0].order_id


def retag(world: World, order_id: int) -> None:
    """An unrelated change (tags, updated_at) that the next sync stores."""
    order = world.shop.orders.get(order_id)
    world.clock.sleep(60)
    order.set_tags([*order.tags, "vip"], world.clock.time())
    world.sync()


def test_an_accepted_charge_still_outstanding_is_not_charged_again_after_a_sync(world):
    fake = world.transport = AsyncCharge(world)
    target = owing(world)
    (first,) = charge(world, target)
    assert first.status == "unknown" and "not applied yet" in first.detail
    retag(world, target)  # the hourly sync: the order's raw changed
    second = charge(world, target)
    assert [o.status for o in second] == ["unknown", "skipped"]
    assert "still unsettled" in second[1].detail
    assert fake.posts == [target]
    # After the hold it is judged, and stays blocked: its payment fields never moved.
    assert [o.status for o in charge(world, target, JUDGE)] == ["failed", "skipped"]
    retag(world, target)
    (blocked,) = charge(world, target, JUDGE)
    assert blocked.status == "skipped" and "payment field" in blocked.detail
    assert fake.posts == [target]
    (row,) = ledger.rows(world.conn, target, "charge_balance")
    assert row["status"] == "failed" and "payment field changes" in row["note"]


def test_an_accepted_charge_that_lands_later_is_read_back_as_succeeded(world):
    fake = world.transport = AsyncCharge(world)
    target = owing(world)
    assert [o.status for o in charge(world, target)] == ["unknown"]
    world.shop.orders.get(target).charge_balance(world.clock.time())  # the charge lands
    settled, skipped = charge(world, target)
    assert settled.status == "succeeded" and "read back" in settled.detail
    assert skipped.status == "skipped" and "payment field" in skipped.detail
    assert fake.posts == [target]


def test_a_lost_charge_response_then_an_unrelated_change_does_not_charge_again(world):
    fake = world.transport = AsyncCharge(world, answer=503)
    target = owing(world)
    assert [o.status for o in charge(world, target, JUDGE)] == ["failed"]
    fake.answer = 202
    retag(world, target)
    (again,) = charge(world, target, JUDGE)
    assert again.status == "skipped" and "payment field" in again.detail
    assert fake.posts == [target]


def test_a_payment_field_change_is_what_opens_a_new_charge(world):
    fake = world.transport = AsyncCharge(world, answer=503)
    target = owing(world)
    charge(world, target, JUDGE)
    order = world.shop.orders.get(target)
    order.paid_cents += 100  # the customer paid part of it by other means
    world.sync()
    fake.answer = 202
    assert [o.status for o in charge(world, target, JUDGE)] == ["unknown"]  # a new key, sent
    assert fake.posts == [target, target]


def test_an_unrelated_change_does_not_open_a_new_release_key(world):
    (item, *_) = ledger.next_keys(world.conn, "release", ledger.releasable(world.conn))
    ledger.claim(world.conn, item)
    ledger.mark_sent(world.conn, [item.key])
    ledger.settle(world.conn, item.key, "rejected", http_status=409)
    retag(world, item.order_id)
    planned = {p.order_id for p in actions.plan_release(world.conn)}
    assert item.order_id not in planned


def test_an_open_row_blocks_a_new_key_even_after_a_relevant_change(world):
    (item, *_) = ledger.next_keys(world.conn, "release", ledger.releasable(world.conn))
    ledger.claim(world.conn, item)
    ledger.mark_sent(world.conn, [item.key])
    ledger.settle(world.conn, item.key, "unknown", note="read-back failed")
    world.conn.execute(
        "update orders set charged_at = charged_at + interval 1 second where id = $id",
        {"id": item.order_id},
    )
    assert item.order_id not in {p.order_id for p in actions.plan_release(world.conn)}
    forced = actions.plan_release(world.conn, order_ids=[item.order_id], force=True)
    assert forced == []


@pytest.mark.parametrize("action", ["release", "charge_balance"])
def test_named_orders_get_the_same_fingerprint_as_the_plan(world, action):
    listed = ledger.releasable if action == "release" else ledger.awaiting_balance
    found = listed(world.conn)
    named = ledger.orders_by_id(world.conn, [c.order_id for c in found], action)
    assert {c.order_id: c.fingerprint for c in found} == {c.order_id: c.fingerprint for c in named}
