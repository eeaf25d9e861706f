"""Batched re-reads around a release: one created-at window walk instead of a GET per order."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import timedelta

import pytest

from preorders import actions
from preorders.actions import ActionSettings
from preorders.actions.reads import read_orders
from preorders.reread import plan_reread
from sandbox import BASE_PATH
from stoq import StoqClient, errors
from tests.pipelines.test_release_support import BASE_URL, applied, force_in_bodies, make_world
from warehouse import ledger

PER_PAGE = 25
FRESH = 60  # orders created (and paid) after the seeded history: the recent window
SINGLES = ActionSettings(bulk_threshold=10_000, stale_after=timedelta(0))
BULK = ActionSettings(bulk_threshold=1, stale_after=timedelta(0), job_initial_interval=0.1)
ORDER_GET = re.compile(r"/preorders/orders/\d+$")
LIST = BASE_PATH + "/preorders/orders"


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path, orders=200)
    yield w
    w.close()


@pytest.fixture
def recent(world):
    return add_recent(world)


def add_recent(world):
    """Make the only releasable orders FRESH paid ones created a day after the rest."""
    world.shop.mutate(release=10_000)  # every seeded order that could be released is
    world.clock.advance(86_400)
    for order in world.shop.create_orders(FRESH):
        order.charge_balance(world.clock.time())
    world.sync()
    assert len(ledger.releasable(world.conn)) == FRESH
    return world


def client(world) -> StoqClient:
    c = world.client()
    c.per_page = PER_PAGE
    return c


def reads(world, since: int) -> tuple[int, int]:
    """(list pages, order GETs) the shop answered since log entry `since`."""
    entries = [e for e in world.shop.log[since:] if e["method"] == "GET"]
    pages = sum(1 for e in entries if e["path"] == LIST)
    return pages, sum(1 for e in entries if ORDER_GET.search(e["path"]))


def releasable_ids(world) -> set[int]:
    return {c.order_id for c in ledger.releasable(world.conn)}


@pytest.mark.parametrize(("settings", "walks"), [(SINGLES, 1), (BULK, 2)], ids=["singles", "bulk"])
def test_release_in_a_recent_window_reads_pages_not_orders(recent, settings, walks):
    ids = releasable_ids(recent)
    since = len(recent.shop.log)
    with client(recent) as c:
        out = actions.release(c, recent.conn, settings=settings)
    assert {o.order_id for o in out if o.status == "succeeded"} == ids
    pages, gets = reads(recent, since)
    # Single path: one walk before acting. Bulk path: that walk plus one after the job.
    assert (pages, gets) == (walks * math.ceil(FRESH / PER_PAGE), 0)
    polls = recent.shop.count_requests("GET", "/preorders/orders/jobs/")
    assert (polls > 0) == (settings is BULK)
    assert set(applied(recent.shop, recent.transport.sent).values()) == {1}


def test_orders_scattered_in_time_still_get_the_cheaper_plan(world):
    ids = releasable_ids(world)
    assert len(ids) > 8
    rows = ledger.releasable(world.conn)
    known = ledger.known_created(world.conn)
    opens = [(r.order_id, r.created_at) for r in rows]
    planned = plan_reread(opens, known, per_page=PER_PAGE, floor=max(c for _, c in opens))
    since = len(world.shop.log)
    with client(world) as c:
        out = actions.release(c, world.conn, settings=SINGLES)
    assert {o.order_id for o in out if o.status == "succeeded"} == ids
    pages, gets = reads(world, since)
    assert pages + gets <= min(len(ids), planned.estimated_requests)
    assert pages >= 1 and pages + gets < len(ids)


def test_an_order_the_window_walk_does_not_show_falls_back_to_a_get(recent):
    old = next(o for o in recent.shop.truth_orders() if o["state"] == "awaiting_balance")
    recent.shop.orders.get(old["id"]).charge_balance(recent.clock.time())
    recent.sync()
    # Clock skew: the warehouse places the old order in the recent window, the API does not.
    newest = max(r.created_at for r in ledger.releasable(recent.conn))
    recent.conn.execute(
        "update orders set created_at = $t where id = $id", {"t": newest, "id": old["id"]}
    )
    ids = releasable_ids(recent)
    assert old["id"] in ids and len(ids) == FRESH + 1
    since = len(recent.shop.log)
    with client(recent) as c:
        out = actions.release(c, recent.conn, settings=SINGLES)
    assert {o.order_id for o in out if o.status == "succeeded"} == ids
    assert reads(recent, since) == (math.ceil(FRESH / PER_PAGE), 1)
    assert recent.shop.count_requests("GET", f"/preorders/orders/{old['id']}") == 1


def test_claims_are_committed_before_the_window_is_read(recent):
    seen: list[set[str]] = []

    def check_ledger(request, entry):
        if request.method == "GET" and request.url.path == LIST and not seen:
            cursor = recent.conn.cursor()  # this runs inside the client: own cursor
            seen.append({r["status"] for r in ledger.rows(cursor, action="release")})
            cursor.close()

    recent.transport.after = check_ledger
    with client(recent) as c:
        actions.release(c, recent.conn, settings=SINGLES)
    assert seen == [{"planned"}]


def test_read_orders_maps_404_to_none_and_reads_the_rest_from_the_window(recent):
    rows = ledger.releasable(recent.conn)
    wanted = {r.order_id: r.created_at for r in rows} | {42: rows[0].created_at}
    with client(recent) as c:
        found = read_orders(
            c, wanted, per_page=PER_PAGE, known_created=[r.created_at for r in rows]
        )
    assert found[42] is None and found.gets == 1 and not found.failed
    assert set(found) == set(wanted)  # nothing else the window held
    assert found.pages == math.ceil(FRESH / PER_PAGE)
    assert {i for i, o in found.items() if o and o["state"] == "balance_collected"} == {
        r.order_id for r in rows
    }


def test_unauthorized_pre_read_gives_every_claim_back(recent):
    bad = StoqClient("stoq_api_key_" + "x" * 32, BASE_URL, transport=recent.transport)
    with bad, pytest.raises(errors.Unauthorized):
        actions.release(bad, recent.conn, settings=SINGLES)
    assert ledger.rows(recent.conn, action="release") == []
    assert recent.shop.count_requests("POST") == 0


@pytest.mark.parametrize("settings", [SINGLES, BULK], ids=["singles", "bulk"])
def test_exactly_once_under_drop_after_apply(recent, settings):
    ids = releasable_ids(recent)
    before = recent.states()
    settings = replace(settings, max_attempts=12, retry_backoff=())  # retries at once
    recent.shop.set_chaos(drop_after_apply=0.5)
    runs = 0
    while runs < 12 and any(recent.states()[i] != "released" for i in ids):
        runs += 1
        with client(recent) as c:
            actions.release(c, recent.conn, settings=settings)
        recent.sync()
    recent.shop.set_chaos(drop_after_apply=0.0)
    with client(recent) as c:  # a final re-tick and settle: nothing more goes out
        actions.release(c, recent.conn, settings=settings)
    counts = applied(recent.shop, recent.transport.sent)
    assert set(counts) == ids and set(counts.values()) == {1}
    after = recent.states()
    assert {i for i in before if before[i] != after[i]} == ids
    assert force_in_bodies(recent.transport.sent) == []
    statuses = {r["status"] for r in ledger.rows(recent.conn, action="release")}
    assert statuses <= {"succeeded", "failed", "skipped", "not_sent"}


@pytest.mark.parametrize(
    "reading",
    [
        {"order_sort": "oldest_first"},
        {"window_values": "date_only"},
        {"from_exclusive": True},
        {"order_ids": "distinct"},
    ],
    ids=["oldest_first", "date_only", "from_exclusive", "distinct_ids"],
)
def test_other_server_readings_still_read_the_window(tmp_path, reading):
    w = make_world(tmp_path, orders=200, **reading)
    try:
        ids = releasable_ids(add_recent(w))
        since = len(w.shop.log)
        with client(w) as c:
            out = actions.release(c, w.conn, settings=BULK)
        assert {o.order_id for o in out if o.status == "succeeded"} == ids
        pages, gets = reads(w, since)
        assert gets == 0 and pages <= 2 * (math.ceil(FRESH / PER_PAGE) + 1)
    finally:
        w.close()
