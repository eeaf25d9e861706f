"""A release that failed without effect goes out again on a later run, after its backoff, once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from preorders import actions
from preorders.actions import ActionSettings
from tests.pipelines.test_release_support import SINGLE_RELEASE, applied, make_world
from warehouse import ledger

SINGLES = ActionSettings(bulk_threshold=10_000, stale_after=timedelta(0))


class RefuseReleases(httpx.BaseTransport):
    """Answers the first `times` release POSTs of `order_id` with `status`, unsent to the shop."""

    def __init__(self, inner: httpx.BaseTransport, order_id: int, times: int, status: int):
        self.inner, self.order_id, self.left, self.status = inner, order_id, times, status

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        match = SINGLE_RELEASE.search(request.url.path)
        ours = request.method == "POST" and match and int(match.group(1)) == self.order_id
        if ours and self.left > 0:
            self.left -= 1
            body = {"errors": ["try again later"]} if self.status < 500 else None
            return httpx.Response(self.status, json=body, request=request)
        return self.inner.handle_request(request)


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path)
    yield w
    w.close()


def refuse(world, times: int, status: int = 503) -> int:
    """The first releasable order, whose next `times` release POSTs get `status`."""
    target = ledger.releasable(world.conn)[0].order_id
    world.transport.inner = RefuseReleases(world.transport.inner, target, times, status)
    return target


def release(world, target: int, settings=SINGLES, at: timedelta = timedelta(0)):
    """One run, judging backoffs `at` from now; the outcome for `target` (None: not named)."""
    with world.client() as client:
        outcomes = actions.release(
            client, world.conn, settings=settings, now=datetime.now(UTC) + at
        )
    return next((o for o in outcomes if o.order_id == target), None)


def posts(world, target: int) -> int:
    path = f"/preorders/orders/{target}/release"
    return sum(s.method == "POST" and s.path.endswith(path) for s in world.transport.sent)


def test_a_5xx_release_is_retried_after_its_backoff_exactly_once(world):
    target = refuse(world, times=2)
    first = release(world, target)
    assert first.status == "failed" and "not applied (read back) after" in first.detail
    assert "503" in first.detail

    waiting = release(world, target)  # before the backoff: named, not sent
    assert waiting.status == "skipped"
    assert "last attempt failed" in waiting.detail and "503" in waiting.detail
    assert "next try after" in waiting.detail and "attempt 2 of 5" in waiting.detail
    assert waiting.line().startswith(f"order {target}: release skipped: last attempt failed")
    assert posts(world, target) == 1

    second = release(world, target, at=timedelta(minutes=2))  # past 1 min: sent, 503 again
    assert second.status == "failed" and posts(world, target) == 2
    early = release(world, target, at=timedelta(minutes=2))  # the 2nd wait is 5 min
    assert early.status == "skipped" and "attempt 3 of 5" in early.detail

    third = release(world, target, at=timedelta(minutes=10))
    assert third.status == "succeeded" and posts(world, target) == 3
    assert applied(world.shop, world.transport.sent)[target] == 1
    assert world.states()[target] == "released"
    again = release(world, target, at=timedelta(hours=5))  # done: never sent again
    assert again is None and posts(world, target) == 3


def test_a_release_stays_failed_after_the_last_attempt_and_is_named(world):
    target = refuse(world, times=5)
    settings = replace(SINGLES, max_attempts=2, retry_backoff=())
    assert release(world, target, settings).status == "failed"
    assert release(world, target, settings).status == "failed"
    gave_up = release(world, target, settings)
    assert gave_up.status == "skipped" and "gave up after 2 failed attempts" in gave_up.detail
    assert posts(world, target) == 2


def test_a_refusal_is_not_retried(world):
    target = refuse(world, times=1, status=422)
    settings = replace(SINGLES, retry_backoff=())
    first = release(world, target, settings)
    assert first.status == "failed" and posts(world, target) == 1
    refused = release(world, target, settings)
    assert refused.status == "skipped" and "STOQ refused an earlier attempt (422" in refused.detail
    assert posts(world, target) == 1


def test_an_unsettled_attempt_still_blocks_a_retry(world):
    target = refuse(world, times=1)
    release(world, target)
    (row,) = ledger.rows(world.conn, order_id=target, action="release")
    world.conn.execute("update order_actions set status = 'unknown' where key = ?", [row["key"]])
    world.shop.set_chaos(error_5xx=1.0)  # the read-back cannot tell: the row stays unknown
    blocked = release(world, target, at=timedelta(hours=2))
    world.shop.set_chaos(error_5xx=0.0)
    assert blocked.status == "unknown" and posts(world, target) == 1
