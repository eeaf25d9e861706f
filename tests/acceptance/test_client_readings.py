"""Client walks, rate limiting and jobs under stricter readings of [U] items."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sandbox import ChaosConfig
from stoq import errors
from tests.acceptance.support import assert_truth, world


@pytest.mark.parametrize("state_filter", ["post_fetch", "pre_fetch"])
@pytest.mark.parametrize("past_end", ["empty", "404"])
def test_state_filter_walk_returns_exactly_that_state(
    tmp_path: Path, state_filter: str, past_end: str
) -> None:
    w = world(tmp_path, orders=200, state_filter=state_filter, page_past_end=past_end)
    want = {o["shopify_order_id"] for o in w.shop.truth_orders() if o["state"] == "placed"}
    with w.client() as client:
        walk = client.list_orders(state="placed", per_page=10)
        got = [o["shopify_order_id"] for o in walk]
    assert sorted(got) == sorted(want) and len(got) == len(set(got))
    if state_filter == "post_fetch":
        assert walk.stats.pages == 20  # walked every page through the short and empty ones


def test_pre_fetch_list_shrinking_mid_walk_past_a_404_end(tmp_path: Path) -> None:
    """Orders leave the state mid-walk: the last promised page answers 404; no error, no dupes."""
    w = world(tmp_path, orders=200, state_filter="pre_fetch", page_past_end="404")
    inner = w.recorder.inner

    def shrinking(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "2":
            w.shop.mutate(pay_balances=40)
        return inner.handle_request(request)

    w.recorder.inner = httpx.MockTransport(shrinking)
    with w.client(concurrency=1) as client:
        got = [
            o["shopify_order_id"] for o in client.list_orders(state="awaiting_balance", per_page=10)
        ]
    assert len(got) == len(set(got)) and got
    assert any(e["status"] == 404 for e in w.shop.log)


HINTS = ["all", "retry_after", "http_date", "body", "reset", "none"]


@pytest.mark.parametrize("hints", HINTS)
def test_stricter_rate_window_is_learnt_from_headers(tmp_path: Path, hints: str) -> None:
    """60 points a minute (not 360) under every 429 hint style: at most one 429, then adapted."""
    cfg = {"rate_limit_points": 60, "rate_limit_hints": hints, "per_page_max": 5}
    w = world(tmp_path, orders=400, **cfg)
    reports = w.sync("full")
    assert reports["orders"].complete and reports["orders"].requests > 60
    assert_truth(w)
    assert w.log_count(429) <= 1


@pytest.mark.parametrize("hints", HINTS)
@pytest.mark.parametrize("body", ["v1", "errors"])
def test_429_bursts_under_every_hint_style_are_ridden_out(
    tmp_path: Path, hints: str, body: str
) -> None:
    chaos = ChaosConfig(burst_429=0.15, burst_length=2, burst_retry_after=3)
    cfg = {"rate_limit_hints": hints, "rate_limit_body": body, "per_page_max": 25}
    w = world(tmp_path, orders=300, chaos=chaos, **cfg)
    reports = w.sync("full")
    assert reports["orders"].complete and reports["orders"].rate_limited > 0
    assert_truth(w)


def test_job_error_as_object_surfaces_as_job_failed(tmp_path: Path) -> None:
    w = world(tmp_path, job_error_style="object", job_steps=3)
    ids = [o["shopify_order_id"] for o in w.shop.truth_orders()[:3]]
    with w.client() as client:
        handle = client.bulk_release(ids)
        w.shop.force_job_status(handle.job_id, "failed", error="shopify timed out")
        with pytest.raises(errors.JobFailed) as failed:
            client.wait_for_job(handle, initial_interval=0.1)
    assert failed.value.status is not None
    assert failed.value.status.error == {"code": "job_failed", "message": "shopify timed out"}
    assert "shopify timed out" in str(failed.value)


def test_job_not_visible_right_after_submission_is_polled_on(tmp_path: Path) -> None:
    w = world(tmp_path, job_404_polls=2, job_steps=2)
    ids = [o["shopify_order_id"] for o in w.shop.truth_orders()[:3]]
    with w.client() as client:
        status = client.wait_for_job(client.bulk_release(ids), initial_interval=1.0)
    assert status.status == "completed"
    assert w.log_count(404) == 2
