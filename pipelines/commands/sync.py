"""`preorders sync`: sync offers and orders with the core, then record the sync into Dagster.

No Dagster run: the walks and loads are `preorders.sync`, the checks `preorders.checks`, and the
outcome goes into the Dagster instance as runless materializations and check evaluations
(`pipelines.recording`, in a helper process `pipelines.cli_recorder` starts before the walk, so
that loading Dagster overlaps it), and `releasable_orders_sensor` and the UI see the sync. This
process never imports Dagster; with no DAGSTER_HOME nothing is recorded. Each stream's walk
reports its progress (`args.progress`: live bars on a terminal, else lines on stderr); `--quiet`
keeps only the last line, `done in …`, and the errors.

Shops (PREORDERS_SHOPS): every configured shop by default, `--shop NAME` one. Several shops sync
at once (`preorders.many_shops.sync_shops`: each shop's walks in a thread of its own, only the
merges take turns); each gets its own summary line, and one shop's failure is that shop's line on
stderr (exit 1) once every other shop has finished. Without a shops file: as before shops.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from pipelines.cli_recorder import Recorder
from pipelines.cli_support import (
    Echo,
    add_shop_arg,
    api_key,
    ensure_dagster_home,
    fail,
    open_warehouse,
    run_guarded,
    secret_keys,
    selected_shops,
    shops_file_set,
)
from pipelines.cli_sync_lines import failure_line, stream_lines, summary

if TYPE_CHECKING:
    import duckdb

    from preorders.checks import CheckOutcome
    from preorders.progress import Progress
    from preorders.shops import Shop
    from preorders.sync_report import SyncReport
    from stoq import StoqClient
    from warehouse.tables import TableShape

STREAMS = ("offers", "orders")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sync` subcommand."""
    p = subparsers.add_parser("sync", help="Sync offers and orders from STOQ into DuckDB.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--full", dest="mode", action="store_const", const="full", help="walk every order"
    )
    mode.add_argument(
        "--incremental",
        dest="mode",
        action="store_const",
        const="incremental",
        help="new orders plus a re-read of open ones (full on the first run)",
    )
    add_shop_arg(p, every_by_default=True)
    p.set_defaults(handler=run, mode="auto")


def run(args: argparse.Namespace) -> int:
    """Check the key, sync, record, print the summary; 1 with a one-line reason on failure."""
    return run_guarded(
        "sync",
        lambda: run_sync(args.mode, progress=args.progress, quiet=args.quiet, shop=args.shop),
    )


@dataclass
class ShopOutcome:
    """One shop's sync as the command reports and records it."""

    shop: str
    key_env: str
    base_url: str
    reports: list[SyncReport]
    errors: list[tuple[str, Exception]]
    rows: dict[str, int] = field(default_factory=dict)
    shapes: dict[str, TableShape] = field(default_factory=dict)
    outcomes: list[CheckOutcome] = field(default_factory=list)

    def failure(self) -> tuple[str, int] | None:
        """Why this shop's sync failed (its first reason) and the exit code; None: it did not."""
        walked = {r.stream for r in self.reports}  # a stream that raised has its own line
        incomplete = [
            o
            for o in self.outcomes
            if o.name.endswith("_sync_complete") and not o.passed and o.asset in walked
        ]
        if incomplete:  # a blocking check says why first, as the job's failed run did
            return str(incomplete[0].metadata["reason"]), 1
        for stream, exc in self.errors:
            return failure_line(exc, self.base_url, stream, self.key_env)
        return None


def run_sync(
    mode: str = "auto",
    echo: Echo = print,
    *,
    progress: Progress | None = None,
    quiet: bool = False,
    shop: str | None = None,
) -> int:
    """Sync both streams of every shop (or the one named), evaluate the checks, record them into
    Dagster; returns the exit code.

    Each stream runs even when the other failed (as the two assets of the job do), and each shop
    even when another failed. The exit code is 1 when a stream raised or its blocking
    `<stream>_sync_complete` check failed. `progress` hears each stream's walk; `quiet` keeps
    only the last line (and errors).
    """
    if shop in (None, "default") and not shops_file_set():  # as before shops: the key first
        api_key(hint="or try `preorders demo`, which needs none")
    shops = selected_shops(shop)  # a bad file or an unknown name: exit 2 before any request
    if len(shops) == 1:
        return _sync_one(shops[0], mode, echo, progress, quiet)
    return _sync_many(shops, mode, echo, progress, quiet)


def _sync_one(shop: Shop, mode: str, echo: Echo, progress: Progress | None, quiet: bool) -> int:
    """One shop: its two streams at once (`sync_streams`), its stream lines as they commit, its
    summary."""
    named = shops_file_set()
    # The client first: an unusable base URL (plain http to a remote host) exits 2 before any
    # request, before the warehouse is touched and before Dagster starts loading.
    with shop.client() as client:
        recorder = start_recorder()  # Dagster loads in another process while this one syncs
        try:
            info = _nothing if quiet else echo
            done = _sync(client, shop, mode, info, progress, named)
        except BaseException:  # a failure, or a stop (SIGTERM/SIGINT raise Stopped)
            # It records nothing and exits; wait for it, so that a stop never leaves it
            # half-way through creating the Dagster home's storage behind our back.
            recorder.cancel()
            raise
    return _conclude([done], recorder, echo, named)


def _sync_many(
    shops: list[Shop], mode: str, echo: Echo, progress: Progress | None, quiet: bool
) -> int:
    """Several shops at once (`preorders.many_shops`); a line per shop once all have ended."""
    from preorders.many_shops import sync_shops
    from preorders.settings import warehouse_from_env

    for shop in shops:  # an unusable base URL or a missing key: exit 2 before any request
        with shop.client():
            pass
    warehouse = warehouse_from_env()
    info = _nothing if quiet else echo
    names = ", ".join(s.name for s in shops)
    info(f"sync ({mode}) of shops {names} into {warehouse.path}")
    recorder = start_recorder()
    try:
        # Each shop's walks in a thread of their own; its key is redacted from its failures.
        results = sync_shops(
            shops, warehouse.connect, mode=mode, run_id=str(uuid.uuid4()), progress=progress
        )
        by_name = {s.name: s for s in shops}
        done = [
            ShopOutcome(
                r.shop,
                by_name[r.shop].api_key_env,
                by_name[r.shop].base_url,
                r.reports,
                list(r.errors.items()),
            )
            for r in results
        ]
        with open_warehouse() as conn:
            for outcome in done:
                _measure(conn, outcome)
    except BaseException:
        recorder.cancel()
        raise
    return _conclude(done, recorder, echo, named=True)


def _conclude(done: list[ShopOutcome], recorder: Recorder, echo: Echo, named: bool) -> int:
    """Record every shop's events, then a summary line per shop that synced and an error line
    per shop that failed; the exit code is the worst shop's."""
    from preorders import checks

    for outcome in done:
        outcome.outcomes += [
            checks.failed_sync(
                stream, failure_line(exc, outcome.base_url, stream, outcome.key_env)[0]
            )
            for stream, exc in outcome.errors
        ]
    unrecorded = recorder.record([_events(outcome) for outcome in done])
    code = 0
    seconds = time.monotonic() - recorder.started
    for outcome in done:
        failure = outcome.failure()
        prefix = f"shop {outcome.shop}: " if named else ""
        if failure is not None:
            code = max(code, fail("sync", prefix + failure[0], failure[1]))
        elif not unrecorded:
            line = summary(outcome.reports, outcome.outcomes, outcome.rows, seconds)
            echo(prefix + line)
    if unrecorded and code == 0:
        return fail("sync", unrecorded, 1)
    return code


def start_recorder() -> Recorder:
    """The recording helper for DAGSTER_HOME (its minimal dagster.yaml made), or none without."""
    home = os.environ.get("DAGSTER_HOME")
    return Recorder.start(ensure_dagster_home(home) if home else None)


def _events(done: ShopOutcome) -> dict[str, Any]:
    """What the recording helper writes for one shop: its partition, tables and checks."""
    from preorders.sync_report import table_metadata

    return {
        "shop": done.shop,
        "materializations": table_metadata(done.reports, done.rows, done.shapes),
        "checks": [asdict(o) for o in done.outcomes],
    }


def _sync(
    client: StoqClient, shop: Shop, mode: str, echo: Echo, progress: Progress | None, named: bool
) -> ShopOutcome:
    """Both streams of `shop` into the warehouse, then its row counts, shapes and checks."""
    from preorders.many_shops import sync_streams
    from preorders.scrubbing import scrubbed
    from preorders.settings import warehouse_from_env

    run_id = str(uuid.uuid4())
    done = ShopOutcome(shop.name, shop.api_key_env, client.base_url, [], [])
    which = f" for shop {shop.name}" if named else ""
    echo(f"sync ({mode}) from {client.base_url} into {warehouse_from_env().path}{which}")
    # An opener, not a connection: the file is held only for each stream's first reads and its
    # merge, so another shop's sync (another process) walks at the same time, and the two
    # streams walk at once (`sync_streams`).
    warehouse = warehouse_from_env().connect
    with stream_lines(echo):
        with scrubbed(secret_keys()) as redact:
            result = sync_streams(
                client, warehouse, shop=shop.name, mode=mode, run_id=run_id, progress=progress,
                redact=redact,
            )  # fmt: skip
        done.errors = list(result.errors.items())  # recorded as failed checks
        done.reports = result.reports
        with open_warehouse() as conn:
            _measure(conn, done)
    return done


def _measure(conn: duckdb.DuckDBPyConnection, done: ShopOutcome) -> None:
    """The finished streams' row counts, table shapes and table checks, into `done`."""
    from preorders import checks
    from preorders.sync_report import TABLES
    from warehouse import checks as warehouse_checks
    from warehouse import tables

    done.rows = warehouse_checks.row_counts(conn, done.shop)
    synced = {r.stream for r in done.reports}
    done.shapes = tables.describe_all(conn, [t for s in synced for t in TABLES[s]])
    done.outcomes = [checks.completeness(r) for r in done.reports]
    done.outcomes += [o for o in checks.evaluate_checks(conn, shop=done.shop) if o.asset in synced]


def _nothing(line: str) -> None:
    """The echo of an informational line under --quiet."""
