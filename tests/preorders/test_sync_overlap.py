"""Shops overlap; only the merge serializes (issue 13, item 4).

A sync given an opener holds the DuckDB file only for its start reads and its merge, so another
process can open it mid-walk, and two processes syncing two shops into one file both commit with
their walks overlapping. `sync_shops` runs each shop in a thread: one shop's rejected key fails
that shop alone.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

import warehouse.schema
from preorders.many_shops import sync_shops, sync_streams
from preorders.progress import Event, PhaseStarted
from preorders.settings import WarehouseSettings
from preorders.shops import Shop
from preorders.sync import sync_offers, sync_orders
from sandbox import SandboxConfig, Shops, mock_transport, serve
from stoq import StoqClient, errors

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "http://sandbox.test/api/v2/external"

PROBE = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1])  # read-write: fails while another process holds the file
conn.execute("create table if not exists probe (x integer)")
conn.execute("insert into probe values (1)")
conn.close()
"""


def probe(path: Path) -> bool:
    """Whether another process can open `path` read-write and write to it now."""
    child = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, timeout=60
    )
    return child.returncode == 0


class MidWalk(httpx.BaseTransport):
    """The sandbox's transport, running `action` once before the `stream` walk's `page`."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        action: Callable[[], Any],
        *,
        stream: str = "orders",
        page: str = "3",
    ) -> None:
        self.inner, self.action, self.results = inner, action, []
        self.stream, self.page = stream, page

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        is_page = url.path.endswith(f"/{self.stream}") and url.params.get("page") == self.page
        if is_page and not self.results:
            self.results.append(self.action())
        return self.inner.handle_request(request)


def opener_for(path: Path) -> Callable[[], Any]:
    """A plain opener of `path`, the schema applied once now (as the CLI's opener does)."""
    with duckdb.connect(str(path)) as setup:
        warehouse.schema.apply(setup)
    return lambda: contextlib.closing(duckdb.connect(str(path)))


@pytest.mark.parametrize("given", ["opener", "connection"])
def test_another_process_can_write_the_file_mid_walk_only_with_an_opener(
    tmp_path: Path, given: str
) -> None:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as setup:
        warehouse.schema.apply(setup)
    shops = Shops.seeded(1, SandboxConfig(orders=500))
    transport = MidWalk(mock_transport(shops), lambda: probe(path))
    with StoqClient(shops.key("shop1"), BASE_URL, transport=transport, per_page=100) as client:
        if given == "opener":
            sync_offers(client, opener_for(path), run_id="r1")
            report = sync_orders(client, opener_for(path), run_id="r1", mode="full")
        else:
            with duckdb.connect(str(path)) as conn:
                sync_offers(client, conn, run_id="r1")
                report = sync_orders(client, conn, run_id="r1", mode="full")
    assert report.complete and report.pages >= 5
    # With an opener the file was free mid-walk; a held connection keeps it (the probe can fail).
    assert transport.results == [given == "opener"]
    with duckdb.connect(str(path)) as after:
        assert after.execute("select count(*) from orders").fetchone() == (500,)
        probes = after.execute("select count(*) from duckdb_tables() where table_name = 'probe'")
        assert probes.fetchone() == ((1,) if given == "opener" else (0,))


def test_a_sync_opens_the_file_to_start_each_stream_and_to_merge_it(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    plain = opener_for(path)
    opens: list[str] = []

    def counting() -> Any:
        opens.append("open")
        return plain()

    shops = Shops.seeded(1, SandboxConfig(orders=250))
    with StoqClient(shops.key("shop1"), BASE_URL, transport=mock_transport(shops)) as client:
        sync_offers(client, counting, run_id="r1")
        # Its start (where to stage: the stream's lock is taken before the walk), its merge.
        assert len(opens) == 2
        sync_orders(client, counting, run_id="r1", mode="full")
        assert len(opens) == 4  # the plan's reads (which also place the stage), the merge


def test_an_incremental_sync_with_an_opener_reads_its_plan_at_the_start(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    shops = Shops.seeded(1, SandboxConfig(orders=300))
    with StoqClient(shops.key("shop1"), BASE_URL, transport=mock_transport(shops)) as client:
        with duckdb.connect(str(path)) as setup:
            warehouse.schema.apply(setup)
        sync_orders(client, opener_for(path), run_id="r1", mode="full")
        shops["shop1"].mutate(new_orders=5, release=3)
        report = sync_orders(client, opener_for(path), run_id="r2", mode="incremental")
    assert report.mode == "incremental" and report.complete
    truth = {o["id"]: o["state"] for o in shops["shop1"].truth_orders()}
    with duckdb.connect(str(path)) as after:
        rows = dict(after.execute("select id, state from orders").fetchall())
    assert len(rows) == len(truth) == 305
    assert {i: rows[i] for i in truth} == truth


CHILD = """
import json, sys, time
from preorders.many_shops import sync_shops, sync_streams
from preorders.settings import WarehouseSettings
from preorders.shops import Shop
db, name, key_env, base_url = sys.argv[1:5]
shop = Shop(name, key_env, base_url, points_per_window=4)
opener = WarehouseSettings.from_env(db).connect
print("ready", flush=True)
sys.stdin.readline()  # all children start together
started = time.time()
(result,) = sync_shops([shop], opener, run_id="run-" + name, mode="full",
                       client_options={"window_seconds": 1.0})
print(json.dumps({"errors": {k: repr(v) for k, v in result.errors.items()},
                  "started": started, "ended": time.time()}), flush=True)
"""


def test_two_processes_sync_two_shops_into_one_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    config = SandboxConfig(orders=1200, latency_ms=20, rate_limit_points=4, rate_limit_window=1.0)
    shops = Shops.seeded(2, config)
    env = {"STOQ_API_KEY_SHOP1": shops.key("shop1"), "STOQ_API_KEY_SHOP2": shops.key("shop2")}
    with serve(shops) as server:
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    str(path),
                    name,
                    f"STOQ_API_KEY_{name.upper()}",
                    server.base_url,
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
                env={**_env(), **env},
            )  # fmt: skip
            for name in ("shop1", "shop2")
        ]
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outs = [child.communicate(timeout=120) for child in children]
    for child, (_, err) in zip(children, outs, strict=True):
        assert child.returncode == 0, err[-3000:]
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert [r["errors"] for r in results] == [{}, {}]
    with duckdb.connect(str(path)) as after:
        counts = after.execute("select shop, count(*) from orders group by 1 order by 1").fetchall()
        spans = after.execute(
            "select shop, started_at, finished_at from sync_runs"
            " where stream = 'orders' and outcome = 'succeeded' order by shop"
        ).fetchall()
    assert counts == [("shop1", 1200), ("shop2", 1200)]
    (_, start1, end1), (_, start2, end2) = spans
    # Each orders walk (12 pages at 4 requests/s) began before the other one's merge ended: with
    # the file held for a whole sync, the second could not even have read its sync state.
    assert start1 < end2 and start2 < end1, (spans, results)


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("STOQ_API_KEY")}


def test_one_shops_rejected_key_fails_that_shop_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.duckdb"
    shops = Shops.seeded(3, SandboxConfig(orders=120))
    wrong = "stoq_api_key_" + "revoked".ljust(32, "0")
    monkeypatch.setenv("KEY_EU", shops.key("shop1"))
    monkeypatch.setenv("KEY_US", wrong)  # STOQ answers 401
    monkeypatch.setenv("KEY_UK", shops.key("shop3"))
    configured = [
        Shop("eu", "KEY_EU", BASE_URL),
        Shop("us", "KEY_US", BASE_URL),
        Shop("uk", "KEY_UK", BASE_URL),
        Shop("nokey", "KEY_UNSET", BASE_URL),
    ]
    events: list[Event] = []
    settings = WarehouseSettings(str(path), "test", 5.0)
    results = sync_shops(
        configured, settings.connect, mode="full", run_id="r1", progress=events.append,
        client_options={"transport": mock_transport(shops)},
    )  # fmt: skip
    assert [r.shop for r in results] == ["eu", "us", "uk", "nokey"]
    eu, us, uk, nokey = results
    assert eu.ok and uk.ok and len(eu.reports) == len(uk.reports) == 2
    assert eu.orders is not None and eu.orders.complete
    assert set(us.errors) == {"offers", "orders"} and us.reports == []
    assert all(isinstance(e, errors.Unauthorized) for e in us.errors.values())
    assert all(wrong not in str(e) for e in us.errors.values())
    assert set(nokey.errors) == {"offers", "orders"}  # no key: nothing ran, nothing raised
    with duckdb.connect(str(path)) as after:
        counts = after.execute("select shop, count(*) from orders group by 1 order by 1").fetchall()
        runs = after.execute(
            "select shop, stream, outcome from sync_runs order by shop, stream"
        ).fetchall()
    assert counts == [("eu", 120), ("uk", 120)]
    assert ("us", "orders", "failed") in runs and ("eu", "orders", "succeeded") in runs
    assert all(wrong not in str(row) for row in runs)
    started = {e.phase for e in events if isinstance(e, PhaseStarted)}
    assert {"eu: offers", "eu: orders (full)", "uk: orders (full)"} <= started


def test_shops_in_threads_overlap_and_each_commits(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    config = SandboxConfig(orders=600, latency_ms=20, rate_limit_points=6, rate_limit_window=1.0)
    shops = Shops.seeded(2, config)
    configured = [
        Shop("a", "KEY_A", BASE_URL, points_per_window=6),
        Shop("b", "KEY_B", BASE_URL, points_per_window=6),
    ]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KEY_A", shops.key("shop1"))
        env.setenv("KEY_B", shops.key("shop2"))
        options = {"transport": mock_transport(shops), "window_seconds": 1.0}
        results = sync_shops(
            configured, opener_for(path), mode="full", client_options=options,
        )  # fmt: skip
    assert all(r.ok for r in results)
    run_ids = {r.orders.run_id for r in results if r.orders is not None}
    assert len(run_ids) == 1  # one run for all shops
    with duckdb.connect(str(path)) as after:
        counts = after.execute("select shop, count(*) from orders group by 1 order by 1").fetchall()
        spans = after.execute(
            "select started_at, finished_at from sync_runs where stream = 'orders' order by shop"
        ).fetchall()
    assert counts == [("a", 600), ("b", 600)]
    (start1, end1), (start2, end2) = spans
    assert start1 < end2 and start2 < end1  # the walks ran at the same time


def test_shops_given_one_connection_run_one_after_another(tmp_path: Path) -> None:
    shops = Shops.seeded(2, SandboxConfig(orders=50))
    configured = [Shop("a", "KEY_A", BASE_URL), Shop("b", "KEY_B", BASE_URL)]
    with pytest.MonkeyPatch.context() as env, duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        env.setenv("KEY_A", shops.key("shop1"))
        env.setenv("KEY_B", shops.key("shop2"))
        warehouse.schema.apply(conn)
        results = sync_shops(configured, conn, client_options={"transport": mock_transport(shops)})
        assert all(r.ok for r in results)
        assert conn.execute("select count(distinct shop) from orders").fetchone() == (2,)


def test_a_shops_two_streams_walk_at_once_each_counting_its_own_requests(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    # 4 points a second: the orders walk (8 pages) and the offers walks (6 pages, then the
    # discarded ones) each need more than one window, so they take seconds side by side, and
    # together never draw a 429 from the key's one window.
    config = SandboxConfig(
        orders=800, offers=600, latency_ms=20, rate_limit_points=4, rate_limit_window=1.0
    )
    shops = Shops.seeded(1, config)
    client = StoqClient(
        shops.key("shop1"), BASE_URL, transport=mock_transport(shops), per_page=100,
        points_per_window=4, window_seconds=1.0,
    )  # fmt: skip
    with client:
        result = sync_streams(client, opener_for(path), shop="shop1", mode="full", run_id="r1")
    assert result.ok and result.offers is not None and result.orders is not None
    log = shops["shop1"].log
    assert [e for e in log if e["status"] == 429] == []
    paths = [e["path"].rsplit("/", 1)[-1] for e in log]
    # Each report counts its own stream's requests, not the other's.
    assert (result.offers.requests, result.orders.requests) == (
        paths.count("offers"),
        paths.count("orders"),
    )
    assert result.orders.requests == 8 and result.offers.requests >= 6
    last_offers = max(i for i, p in enumerate(paths) if p == "offers")
    assert paths.index("orders") < last_offers  # neither walk waited for the other
    with duckdb.connect(str(path)) as after:
        spans = after.execute(
            "select stream, started_at, finished_at from sync_runs order by stream"
        ).fetchall()
    (_, o_start, o_end), (_, r_start, r_end) = spans
    assert o_start < r_end and r_start < o_end  # offers and orders ran at the same time


def test_both_streams_failing_keep_offers_first(tmp_path: Path) -> None:
    shops = Shops.seeded(1, SandboxConfig(orders=10))
    wrong = "stoq_api_key_" + "revoked".ljust(32, "0")
    with StoqClient(wrong, BASE_URL, transport=mock_transport(shops)) as client:
        result = sync_streams(client, opener_for(tmp_path / "w.duckdb"), shop="s", run_id="r1")
    assert list(result.errors) == ["offers", "orders"]  # stream order, whichever failed first
    assert all(isinstance(e, errors.Unauthorized) for e in result.errors.values())


# stream -> how one sync of it runs, and the page of the first sync's walk the second starts at
SYNCS: dict[str, tuple[Callable[..., Any], dict[str, Any], str]] = {
    "orders": (sync_orders, {"mode": "full"}, "3"),
    # Offers too, though their stage holds nothing until the merge: the stream's lock is taken
    # when the load starts, so the later sync never walks, nor merges its snapshot last.
    "offers": (sync_offers, {}, "1"),
}


@pytest.mark.parametrize("stream", SYNCS)
def test_a_second_sync_of_the_same_shops_stream_stops_before_walking(
    tmp_path: Path, stream: str
) -> None:
    """A CLI sync beside a Dagster run of one shop: the later one stops with LoadInProgress
    before it walks, and the first one commits as if it were alone."""
    run, options, page = SYNCS[stream]
    path = tmp_path / "w.duckdb"
    shops = Shops.seeded(1, SandboxConfig(orders=500))
    opener = opener_for(path)
    second = StoqClient(shops.key("shop1"), BASE_URL, transport=mock_transport(shops))

    def beside() -> str:
        try:
            run(second, opener, run_id="r2", **options)
        except errors.StoqError:
            raise
        except Exception as exc:
            return f"{type(exc).__name__}: {exc} ({second.stats.snapshot().requests} requests)"
        return "ran"

    transport = MidWalk(mock_transport(shops), beside, stream=stream, page=page)
    with second, StoqClient(shops.key("shop1"), BASE_URL, transport=transport) as client:
        report = run(client, opener, run_id="r1", **options)
    (said,) = transport.results
    assert said.startswith(f"LoadInProgress: another sync of shop default's {stream} is running")
    assert said.endswith("(0 requests)")  # it stopped before its walk
    truth = shops["shop1"].truth_orders() if stream == "orders" else shops["shop1"].truth_offers()
    assert report.complete and report.counts["inserted"] == len(truth)
    with duckdb.connect(str(path)) as after:
        runs = after.execute("select run_id, outcome from sync_runs order by run_id").fetchall()
    assert runs == [("r1", "succeeded")]
