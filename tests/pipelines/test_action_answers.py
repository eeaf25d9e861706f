"""Odd answers to the writes that move money: read back when the server may have acted, never
sent again blind, and no charge on an order a live read shows cancelled or refunded."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from preorders import actions
from preorders.actions import ActionSettings
from tests.pipelines.test_release_support import RecordingTransport, World, make_world
from warehouse import ledger

SINGLES = ActionSettings(bulk_threshold=10_000, stale_after=timedelta(0))
BULK = ActionSettings(
    bulk_threshold=1, stale_after=timedelta(0), job_initial_interval=0.1,
    job_timeout=30, job_stall_timeout=10, settle_job_timeout=5,
)  # fmt: skip
Rewrite = Callable[[httpx.Request, httpx.Response], httpx.Response | None]


class Rewriting(httpx.BaseTransport):
    """The sandbox answers first; `rewrite` may replace its answer (None keeps it)."""

    def __init__(self, inner: httpx.BaseTransport, rewrite: Rewrite) -> None:
        self.inner, self.rewrite = inner, rewrite

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        answer.read()
        return self.rewrite(request, answer) or answer


def rewritten(tmp_path: Path, rewrite: Rewrite) -> World:
    world = make_world(tmp_path)
    world.transport = RecordingTransport(Rewriting(world.transport.inner, rewrite))
    return world


def posts(world: World, suffix: str) -> int:
    return sum(1 for s in world.transport.sent if s.method == "POST" and s.path.endswith(suffix))


def test_a_charge_answered_with_a_redirect_is_read_back_not_called_failed(tmp_path) -> None:
    def see_other(request: httpx.Request, answer: httpx.Response) -> httpx.Response | None:
        if request.method == "POST" and request.url.path.endswith("/charge_balance"):
            return httpx.Response(303, headers={"location": str(request.url)})  # it had acted
        return None

    world = rewritten(tmp_path, see_other)
    (target,) = world.conn.execute(
        "select id from orders where state = 'awaiting_balance' order by id limit 1"
    ).fetchone()
    with world.client() as client:
        (outcome,) = actions.charge(client, world.conn, [target], dry_run=False, settings=SINGLES)
    assert outcome.status == "succeeded" and "read back" in outcome.line()
    assert posts(world, "/charge_balance") == 1


def test_a_bulk_job_accepted_without_a_status_url_is_never_submitted_again(tmp_path) -> None:
    def no_status_url(request: httpx.Request, answer: httpx.Response) -> httpx.Response | None:
        if request.url.path.endswith("/bulk_release") and answer.status_code == 202:
            body = {k: v for k, v in answer.json().items() if k != "status_url"}
            return httpx.Response(202, content=json.dumps(body).encode())
        return None

    world = rewritten(tmp_path, no_status_url)
    ids = [c.order_id for c in ledger.releasable(world.conn)][:3]
    with world.client() as client:
        first = actions.release(client, world.conn, ids, settings=BULK)
        later = datetime.now(UTC) + timedelta(minutes=2)
        actions.release(client, world.conn, ids, settings=BULK, now=later)
    assert {o.status for o in first} <= {"unknown", "succeeded"}  # never "failed": it was taken
    assert posts(world, "/bulk_release") == 1


def test_a_release_answered_2xx_but_not_applied_fails_and_is_tried_again(tmp_path) -> None:
    swallow = [True]
    world = make_world(tmp_path)
    target = ledger.releasable(world.conn)[0].order_id
    with world.client() as client:
        held = httpx.Response(202, content=json.dumps(client.get_order(target)).encode())
    inner = world.transport.inner

    class Swallowing(httpx.BaseTransport):
        """Answers the first release with the order as it was, applying nothing."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if swallow[0] and request.method == "POST" and request.url.path.endswith("/release"):
                swallow[0] = False
                return held
            return inner.handle_request(request)

    world.transport = RecordingTransport(Swallowing())
    with world.client() as client:
        (first,) = actions.release(client, world.conn, [target], settings=SINGLES)
        assert first.status == "failed" and "answered 202 but not applied" in first.line()
        later = datetime.now(UTC) + timedelta(hours=1)  # past the retry's backoff
        (second,) = actions.release(client, world.conn, [target], settings=SINGLES, now=later)
    assert second.status == "succeeded"
    assert posts(world, "/release") == 2


def test_a_refused_bulk_submission_is_not_sent_again(tmp_path) -> None:
    def refuse(request: httpx.Request, answer: httpx.Response) -> httpx.Response | None:
        if request.method == "POST" and request.url.path.endswith("/bulk_release"):
            return httpx.Response(422, json={"errors": ["order_ids: too many"]})
        return None

    world = rewritten(tmp_path, refuse)
    ids = [c.order_id for c in ledger.releasable(world.conn)][:3]
    with world.client() as client:
        for minutes in (0, 30, 300):  # well past any retry's backoff
            now = datetime.now(UTC) + timedelta(minutes=minutes)
            actions.release(client, world.conn, ids, settings=BULK, now=now)
    assert posts(world, "/bulk_release") == 1  # a refusal no retry can change
    rows = ledger.rows(world.conn, action="release")
    assert {(r["status"], r["http_status"]) for r in rows} == {("failed", 422)}
