"""Progress: the events a sync and a job poll emit, their lines (throttled), the ETA."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import duckdb
import httpx
import pytest

import warehouse.schema
from preorders import actions
from preorders.jobtracking import track_job
from preorders.progress import (
    Event,
    JobPolled,
    Phase,
    PhaseEnded,
    PhaseStarted,
    RateLimitWait,
    Retrying,
    Step,
    estimate,
)
from preorders.progress_lines import Lines, describe, duration
from preorders.sync import sync_offers, sync_orders
from sandbox import DEFAULT_API_KEY, FakeClock, SandboxConfig, Shop, mock_transport
from stoq import StoqClient, errors
from stoq.ratelimit import Room
from tests.assets.helpers import BASE_URL, client_for, make_shop, mature
from tests.pipelines.test_release_support import make_world

ENDS = (PhaseStarted, PhaseEnded)


def bounds(events: list[Event]) -> list[tuple[str, str]]:
    return [(type(e).__name__, e.phase) for e in events if isinstance(e, ENDS)]


def synced(shop: Shop, db: Path, mode: str, progress, **client: int) -> None:
    with client_for(shop, **client) as c, duckdb.connect(str(db)) as conn:
        warehouse.schema.apply(conn)
        sync_offers(c, conn, run_id=f"{mode}-o", progress=progress)
        sync_orders(c, conn, run_id=f"{mode}-r", mode=mode, progress=progress)


def test_a_full_sync_reports_each_stream_as_a_phase_with_pages_of_total(tmp_path: Path) -> None:
    events: list[Event] = []
    synced(make_shop(1200), tmp_path / "w.duckdb", "full", events.append)
    assert bounds(events) == [
        ("PhaseStarted", "offers"),
        ("PhaseEnded", "offers"),
        ("PhaseStarted", "orders (full)"),
        ("PhaseEnded", "orders (full)"),
    ]
    steps = [e for e in events if isinstance(e, Step) and e.phase == "orders (full)"]
    assert steps and all(s.total is not None and s.done <= s.total for s in steps)
    assert (steps[-1].done, steps[-1].total, steps[-1].rows) == (12, 12, 1200)
    ended = events[-1]
    assert isinstance(ended, PhaseEnded) and ended.outcome == "done"
    assert ended.summary == "12 pages, 1,200 orders"


def test_an_incremental_sync_re_reads_open_orders_in_a_phase_of_their_own(tmp_path: Path) -> None:
    shop, db = make_shop(1500), tmp_path / "w.duckdb"
    mature(shop)
    synced(shop, db, "full", None)
    events: list[Event] = []
    synced(shop, db, "incremental", events.append)
    assert ("PhaseStarted", "open orders") in bounds(events)
    reads = [e for e in events if isinstance(e, Step) and e.phase == "open orders"]
    assert reads and reads[-1].unit == "orders" and reads[-1].done == reads[-1].total > 0
    # Nested: the re-read starts and ends inside the orders phase.
    order = bounds(events)
    assert order.index(("PhaseEnded", "open orders")) < order.index(
        ("PhaseEnded", "orders (incremental)")
    )


def test_sync_lines_keep_phases_and_at_most_one_other_line_per_10_s(tmp_path: Path) -> None:
    shop = make_shop(3000)
    clock = shop.clock  # the client sleeps on it: a budget of 2 points in 6 s takes time
    lines: list[str] = []
    out = Lines(lines.append, clock=clock.monotonic, stamp=lambda: f"{clock.monotonic():.3f}")
    events: list[Event] = []

    def both(event: Event) -> None:
        events.append(event)
        out(event)

    synced(shop, tmp_path / "w.duckdb", "full", both, points_per_window=2, window_seconds=6)
    said = [(float(line.split(" ", 1)[0]), line.split(" ", 1)[1]) for line in lines]
    assert [text for _, text in said if text.endswith(": started")] == [
        "offers: started",
        "orders (full): started",
    ]
    assert sum(" done in " in text for _, text in said) == 2
    others = [
        (t, text) for t, text in said if not text.endswith(": started") and " done in " not in text
    ]
    assert len(others) >= 3  # the walk took minutes (of the fake clock): it said so
    for phase in ("offers", "orders (full)"):  # each phase is paced on its own
        times = [t for t, text in others if text.startswith(f"{phase}: ")]
        assert all(b - a >= 10 for a, b in zip(times, times[1:], strict=False)), phase
    assert len(others) < sum(not isinstance(e, ENDS) for e in events)  # some were held back
    assert any(isinstance(e, Step) and e.rate_waits for e in events)
    # 2 points per 6 s: the budget, not the (instant) server, says how long is left.
    etas = [e.eta_s for e in events if isinstance(e, Step) and e.done < (e.total or 0)]
    assert etas and all(eta is not None and eta >= 3 for eta in etas[1:])
    assert any(re.search(r"orders \(full\): \d+/30 pages, [\d,]+ orders", t) for _, t in said)


def test_lines_throttle_on_the_clock_and_never_spend_a_slot_on_a_short_wait() -> None:
    clock = FakeClock()
    lines: list[str] = []
    out = Lines(lines.append, clock=clock.monotonic)
    out(PhaseStarted("p"))
    out(Step("p", 1, 10))
    out(RateLimitWait("p", 0.2, "rate budget"))  # too short for a line: no slot used
    clock.advance(9.9)
    out(Step("p", 2, 10))  # 9.9 s after the last line: held back
    clock.advance(0.1)
    out(Retrying("p", 3.0, "cannot reach host", 1, 6))
    out(Step("p", 3, 10))
    out(PhaseEnded("p", 10.0))  # phase lines are never held back
    assert lines == [
        "p: started",
        "p: 1/10 pages",
        "p: retrying in 3.0 s (cannot reach host; retry 1 of 6)",
        "p: done in 10 s",
    ]


def test_a_long_wait_is_said_at_once_and_once_for_all_threads() -> None:
    clock = FakeClock()
    lines: list[str] = []
    out = Lines(lines.append, clock=clock.monotonic)
    out(Step("p", 1, 10))
    clock.advance(1)
    for _ in range(4):  # four worker threads held by the same budget
        out(RateLimitWait("p", 58.0, "rate budget"))
    clock.advance(58)
    out(Retrying("p", 16.0, "cannot reach host", 6, 6))  # a new long wait: said again
    out(Step("p", 2, 10))  # right after it: held back, as after any line
    assert lines == [
        "p: 1/10 pages",
        "p: waiting 58 s for the rate limit (rate budget)",
        "p: retrying in 16 s (cannot reach host; retry 6 of 6)",
    ]


def test_phases_running_at_once_are_paced_each_on_its_own() -> None:
    clock = FakeClock()
    lines: list[str] = []
    out = Lines(lines.append, clock=clock.monotonic)
    out(Step("orders", 1, 10))
    out(Retrying("offers", 0.5, "cannot reach host", 1, 2))  # offers' first: said at once
    clock.advance(5)
    out(Step("orders", 2, 10))  # 5 s after orders' last line: held back
    out(Step("offers", 1, 2))  # 5 s after offers' last line: held back
    clock.advance(5)
    for _ in range(2):  # one budget's hold reaches both streams' threads
        out(RateLimitWait("orders", 30.0, "rate budget"))
        out(RateLimitWait("offers", 30.0, "rate budget"))
    assert lines == [
        "orders: 1/10 pages",
        "offers: retrying in 0.5 s (cannot reach host; retry 1 of 2)",
        "orders: waiting 30 s for the rate limit (rate budget)",
        "offers: waiting 30 s for the rate limit (rate budget)",
    ]


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (Step("orders", 40, 300, rows=4000, noun="orders", eta_s=52, rate_waits=2),
         "orders: 40/300 pages, 4,000 orders, 2 rate-limit waits, ETA 52 s"),
        (Step("orders", 300, 300, rows=5, eta_s=0.0), "orders: 300/300 pages, 5 rows"),
        (RateLimitWait("orders", 30, "429 Too Many Requests"),
         "orders: waiting 30 s for the rate limit (429 Too Many Requests)"),
        (JobPolled("job j1", "running", 40, 400, 1000), "job j1: running 40% (400/1000)"),
        (JobPolled("job j1", "queued", None), "job j1: queued"),
        (PhaseEnded("offers", 125.0, "failed", "1 pages"), "offers: failed in 2m05s (1 pages)"),
    ],
)  # fmt: skip
def test_each_event_reads_as_one_line(event: Event, line: str) -> None:
    assert describe(event) == line


def test_durations_read_at_a_glance() -> None:
    assert [duration(s) for s in (0.04, 9.94, 12.4, 185, 3725)] == [
        "0.0 s", "9.9 s", "12 s", "3m05s", "1h02m",
    ]  # fmt: skip


def test_the_eta_is_never_sooner_than_the_rate_budget_nor_the_pace_so_far() -> None:
    room = Room(limit=360, remaining=60, window=60.0)
    # 60 pages in 1 s: the pace says 5 s, but 240 of the 300 left wait for the budget: 40 s.
    assert estimate(300, 60, 1.0, room) == pytest.approx(40.0)
    # A slow server: the pace (300 s) rules while the budget has room for everything.
    assert estimate(300, 10, 10.0, Room(360, 360, 60.0)) == pytest.approx(300.0)
    assert estimate(0, 10, 10.0, room) == 0.0
    assert estimate(10, 0, 0.0, Room(360, 360, 60.0)) is None  # no pace, no budget bound: no idea
    assert estimate(400, 0, 0.0, room) == pytest.approx(340 / 6)


def test_a_phase_relays_the_clients_retries_and_gives_its_listener_back() -> None:
    attempts = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)
        return httpx.Response(200, json={"version": "v2", "actions": []})

    clock = FakeClock()
    events: list[Event] = []
    with StoqClient(
        DEFAULT_API_KEY, BASE_URL, transport=httpx.MockTransport(flaky),
        sleep=clock.sleep, clock=clock.monotonic, wall_clock=clock.time,
    ) as client:  # fmt: skip
        with Phase(events.append, "check", client=client):
            client.help()
        assert client.listen(None) is None  # given back: nobody listens after the phase
    (retry,) = [e for e in events if isinstance(e, Retrying)]
    assert (retry.phase, retry.reason, retry.retry) == ("check", "cannot reach host", 1)


@pytest.mark.parametrize(
    ("raised", "outcome"), [(RuntimeError("boom"), "failed"), (KeyboardInterrupt(), "stopped")]
)
def test_a_phase_left_by_an_exception_ends_failed_or_stopped(raised, outcome) -> None:
    events: list[Event] = []
    with pytest.raises(type(raised)), Phase(events.append, "orders"):
        raise raised
    assert isinstance(events[-1], PhaseEnded) and events[-1].outcome == outcome


def test_job_polling_reports_status_and_percent_then_its_end(tmp_path: Path) -> None:
    clock = FakeClock()
    shop = Shop(SandboxConfig(orders=5, job_steps=3, rate_limit_points=1_000_000), clock=clock)
    lines: list[str] = []
    with (
        StoqClient(
            DEFAULT_API_KEY, BASE_URL, transport=mock_transport(shop),
            sleep=clock.sleep, clock=clock.monotonic, wall_clock=clock.time,
        ) as client,
        duckdb.connect(str(tmp_path / "w.duckdb")) as conn,
    ):  # fmt: skip
        warehouse.schema.apply(conn)
        handle = client.bulk_variant_action("bulk_sync_metafields")
        track_job(client, conn, handle, progress=Lines(lines.append, every=0))
        job = f"job {handle.job_id}"
        failed = client.bulk_variant_action("bulk_reset_metafields")
        shop.force_job_status(failed.job_id, "failed", error="quota exceeded")
        with pytest.raises(errors.JobFailed):
            track_job(client, conn, failed, progress=Lines(lines.append, every=0))
    assert lines[0] == f"{job}: started"
    polled = [line for line in lines if line.startswith(f"{job}: ") and "%" in line]
    assert polled and all(re.fullmatch(rf"{job}: \w+ \d+(\.\d+)?%.*", p) for p in polled)
    assert polled[-1].startswith(f"{job}: completed 100%")
    assert re.fullmatch(rf"{job}: done in [\d.]+ s \(status completed\)", lines[len(polled) + 1])
    assert lines[-1].startswith(f"job {failed.job_id}: failed in ")


@pytest.mark.parametrize("bulk", [False, True])
def test_a_release_sends_its_batch_as_a_phase(tmp_path: Path, bulk: bool) -> None:
    world = make_world(tmp_path)
    threshold = 1 if bulk else 10_000
    settings = actions.ActionSettings(
        bulk_threshold=threshold, stale_after=timedelta(0), job_initial_interval=0.01
    )
    events: list[Event] = []
    try:
        with world.client() as client:
            outcomes = actions.release(
                client, world.conn, settings=settings, progress=events.append
            )
    finally:
        world.close()
    sent = [o for o in outcomes if o.status == "succeeded"]
    assert len(sent) >= 8
    assert ("PhaseStarted", "release") in bounds(events)
    ended = [e for e in events if isinstance(e, PhaseEnded) and e.phase == "release"]
    assert len(ended) == 1 and ended[0].outcome == "done"
    if bulk:  # the job is polled within the release phase: its status and percent
        polls = [e for e in events if isinstance(e, JobPolled)]
        assert polls and polls[-1].status == "completed" and polls[-1].phase.startswith("job ")
        assert bounds(events)[-1] == ("PhaseEnded", "release")
    else:  # one POST an order: a step each, the last one done of all
        steps = [e for e in events if isinstance(e, Step) and e.phase == "release"]
        assert [s.done for s in steps] == list(range(1, len(sent) + 1))
        assert {s.total for s in steps} == {len(sent)} and steps[0].unit == "orders"
