"""Ledger safety found in review: a charge is never sent twice, a running bulk job never re-sent.

Charges may settle after their 202 (SPEC §3.4) and a later sync changes the order's raw
(updated_at, tags): neither may open a second charge. Release keys ignore unrelated changes too.
A bulk job may still act after a timeout, a crash while polling or a lost submission: its rows
stay open until the job is seen to end (or the submission hold passes).
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from preorders import actions
from preorders.actions import ActionSettings
from tests.pipelines.test_release_support import SINGLE_RELEASE, World, applied, make_world
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
        return actions.charge(client, world.conn, [target], dry_run=False, settings=settings)


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


BULK = ActionSettings(
    bulk_threshold=1, stale_after=timedelta(0), job_initial_interval=1.0, job_timeout=3.0
)
SINGLES = ActionSettings(bulk_threshold=10_000, stale_after=timedelta(0))


@pytest.fixture
def slow_jobs(tmp_path):
    w = make_world(tmp_path, orders=80, job_steps=50)
    yield w
    w.close()


def single_release_posts(world: World) -> int:
    return sum(
        1 for e in world.shop.log if e["method"] == "POST" and SINGLE_RELEASE.search(e["path"])
    )


def assert_released_at_most_once(world: World) -> None:
    assert set(applied(world.shop, world.transport.sent).values()) <= {1}


def test_a_bulk_job_still_running_is_not_judged_and_its_orders_not_sent_again(slow_jobs):
    world = slow_jobs
    with world.client() as client:
        first = actions.release(client, world.conn, settings=BULK)
    pending = {o.order_id for o in first if o.status == "unknown"}
    ((job_id, status),) = world.conn.execute("select job_id, last_status from jobs").fetchall()
    assert pending and status == "running"
    rows = [r for r in ledger.rows(world.conn, action="release") if r["order_id"] in pending]
    assert {r["job_id"] for r in rows} == {job_id}
    with world.client() as client:  # the next run: the job is still queued server-side
        second = actions.release(client, world.conn, settings=SINGLES)
    assert not world.shop.jobs.jobs[job_id].terminal
    # Polling advanced the job: what it processed reads back released, the rest stays open.
    still = [o for o in second if o.order_id in pending and o.status != "succeeded"]
    assert still and {o.status for o in still} == {"unknown"}
    assert all(f"bulk job {job_id} may still run" in o.detail for o in still)
    assert single_release_posts(world) == 0
    assert {r["status"] for r in ledger.rows(world.conn, action="release")} <= {
        "succeeded",
        "unknown",
    }
    patient = ActionSettings(
        bulk_threshold=10_000, stale_after=timedelta(0), settle_job_timeout=600
    )
    with world.client() as client:  # once the job ends its orders are read back as released
        third = actions.release(client, world.conn, settings=patient)
    assert {o.order_id for o in third if o.status == "succeeded"} == {o.order_id for o in still}
    assert single_release_posts(world) == 0
    assert_released_at_most_once(world)


def test_a_crash_while_polling_leaves_the_job_on_the_rows(slow_jobs):
    world = slow_jobs

    def crash_on_poll(request, entry):
        if "/preorders/orders/jobs/" in request.url.path:
            raise RuntimeError("the process died while polling")

    world.transport.after = crash_on_poll
    with world.client() as client, pytest.raises(RuntimeError):
        actions.release(client, world.conn, settings=BULK)
    world.transport.after = None
    rows = ledger.rows(world.conn, action="release")
    assert {r["status"] for r in rows} == {"sent"} and len({r["job_id"] for r in rows}) == 1
    with world.client() as client:
        again = actions.release(client, world.conn, settings=SINGLES)
    # The job is polled first: still running, so what it has not processed stays unknown.
    assert "unknown" in {o.status for o in again} <= {"unknown", "succeeded"}
    assert single_release_posts(world) == 0
    assert_released_at_most_once(world)


def test_a_lost_bulk_submission_is_held_then_judged_and_sent_once(tmp_path):
    world = make_world(tmp_path, orders=80)
    try:
        ids = {c.order_id for c in ledger.releasable(world.conn)}
        world.shop.set_chaos(drop_after_apply=1.0)
        with world.client() as client:
            first = actions.release(client, world.conn, settings=BULK)
        assert {o.status for o in first} == {"unknown"}
        assert {r["job_id"] for r in ledger.rows(world.conn, action="release")} == {None}
        world.shop.set_chaos(drop_after_apply=0.0)
        with world.client() as client:  # within the hold: nothing is judged, nothing sent
            held = actions.release(client, world.conn, settings=SINGLES)
        assert {o.status for o in held} == {"unknown"} and len(held) == len(ids)
        assert all("bulk submission outcome unknown" in o.detail for o in held)
        assert single_release_posts(world) == 0
        later = ActionSettings(  # the hold and the retry backoff have passed
            bulk_threshold=10_000,
            stale_after=timedelta(0),
            unknown_submission_hold=timedelta(0),
            retry_backoff=(),
        )
        with world.client() as client:
            judged = actions.release(client, world.conn, settings=later)
        assert {o.order_id for o in judged if o.status == "failed"} == ids
        assert {o.order_id for o in judged if o.status == "succeeded"} == ids
        assert single_release_posts(world) == len(ids)
        assert_released_at_most_once(world)
    finally:
        world.close()
