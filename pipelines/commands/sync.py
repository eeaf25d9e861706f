"""`preorders sync`: sync offers and orders with the core, then record the sync into Dagster.

No Dagster run: the walks and loads are `preorders.sync`, the checks `preorders.checks`, and the
outcome goes into the Dagster instance as runless materializations and check evaluations
(`pipelines.recording`, in a helper process started before the walk, so that loading Dagster
overlaps it), and `releasable_orders_sensor` and the UI see the sync. This process never imports
Dagster; with no DAGSTER_HOME nothing is recorded. Each stream's walk reports its progress
(`args.progress`: live bars on a terminal, else lines on stderr); `--quiet` keeps only the last
line, `done in …`, and the errors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING

from pipelines.cli_support import (
    USAGE,
    Echo,
    api_key,
    base_url_hint,
    ensure_dagster_home,
    fail,
    open_warehouse,
    run_guarded,
    scrub,
    stoq_client,
)

if TYPE_CHECKING:
    from preorders.checks import CheckOutcome
    from preorders.progress import Progress
    from preorders.sync_report import SyncReport
    from stoq import StoqClient
    from warehouse.tables import TableShape

STREAMS = ("offers", "orders")
CANCEL_WAIT_S = 6.0  # the helper opens the Dagster storage in ~1-2 s; the stop's grace is 10 s


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
    p.set_defaults(handler=run, mode="auto")


def run(args: argparse.Namespace) -> int:
    """Check the key, sync, record, print the summary; 1 with a one-line reason on failure."""
    return run_guarded(
        "sync", lambda: run_sync(args.mode, progress=args.progress, quiet=args.quiet)
    )


def run_sync(
    mode: str = "auto",
    echo: Echo = print,
    *,
    progress: Progress | None = None,
    quiet: bool = False,
) -> int:
    """Sync both streams, evaluate the checks, record them into Dagster; returns the exit code.

    Each stream runs even when the other failed (as the two assets of the job do). The exit
    code is 1 when a stream raised or its blocking `<stream>_sync_complete` check failed.
    `progress` hears each stream's walk; `quiet` keeps only the last line (and errors).
    """
    key = api_key(hint="or try `preorders demo`, which needs none")
    # The client first: an unusable base URL (plain http to a remote host) exits 2 before any
    # request, before the warehouse is touched and before Dagster starts loading.
    with stoq_client(key) as client:
        recorder = Recorder.start()  # Dagster loads in another process while this one syncs
        try:
            info = _nothing if quiet else echo
            reports, errors, (rows, shapes), table_checks = _sync(client, key, mode, info, progress)
        except BaseException:  # a failure, or a stop (SIGTERM/SIGINT raise Stopped)
            # It records nothing and exits; wait for it, so that a stop never leaves it
            # half-way through creating the Dagster home's storage behind our back.
            recorder.cancel()
            raise
    from preorders import checks  # loaded by _sync

    outcomes = [checks.completeness(r) for r in reports] + table_checks
    incomplete = [o for o in outcomes if o.name.endswith("_sync_complete") and not o.passed]
    failures = [(stream, *failure_line(exc, client.base_url, stream)) for stream, exc in errors]
    outcomes += [checks.failed_sync(stream, text) for stream, text, _ in failures]
    unrecorded = recorder.record(reports, outcomes, rows, shapes)
    if incomplete:  # a blocking check says why first, as the job's failed run did
        return fail("sync", str(incomplete[0].metadata["reason"]), 1)
    if failures:
        _, text, code = failures[0]
        return fail("sync", text, code)
    if unrecorded:
        return fail("sync", unrecorded, 1)
    echo(summary(reports, outcomes, rows, time.monotonic() - recorder.started))
    return 0


def _sync(
    client: StoqClient, key: str, mode: str, echo: Echo, progress: Progress | None
) -> tuple[
    list[SyncReport],
    list[tuple[str, Exception]],
    tuple[dict[str, int], dict[str, TableShape]],
    list[CheckOutcome],
]:
    """Both streams into the warehouse, then the finished streams' row counts, shapes and checks."""
    from preorders import checks, sync
    from preorders.scrubbing import scrubbed
    from preorders.settings import warehouse_from_env
    from preorders.sync_report import TABLES
    from warehouse import checks as warehouse_checks
    from warehouse import tables

    run_id = str(uuid.uuid4())
    reports: list[SyncReport] = []
    errors: list[tuple[str, Exception]] = []
    echo(f"sync ({mode}) from {client.base_url} into {warehouse_from_env().path}")
    with _stream_lines(echo), open_warehouse() as conn:
        for stream in STREAMS:
            try:
                with scrubbed(key):
                    if stream == "offers":
                        report = sync.sync_offers(client, conn, run_id=run_id, progress=progress)
                    else:
                        report = sync.sync_orders(
                            client, conn, run_id=run_id, mode=mode, progress=progress
                        )
            except Exception as exc:  # recorded as a failed check; the other stream goes on
                errors.append((stream, exc))
                continue
            reports.append(report)
        rows = warehouse_checks.row_counts(conn)
        synced = {r.stream for r in reports}
        shapes = tables.describe_all(conn, [t for s in synced for t in TABLES[s]])
        table_checks = [o for o in checks.evaluate_checks(conn) if o.asset in synced]
    return reports, errors, (rows, shapes), table_checks


def failure_line(exc: BaseException, base_url: str, stream: str) -> tuple[str, int]:
    """(one line naming why a stream's sync failed, the exit code): 2 for a usage error, else 1."""
    from stoq import errors

    chain = [exc]
    while chain[-1].__cause__ is not None and chain[-1].__cause__ not in chain:
        chain.append(chain[-1].__cause__)
    root = chain[-1]

    def first(kind: type[BaseException]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, kind)), None)

    if (found := first(errors.ConfigurationError)) is not None:
        return _text(found), USAGE
    if first(errors.Unauthorized) is not None:
        return "STOQ rejected the API key (401 Unauthorized): check STOQ_API_KEY", 1
    if (found := first(errors.MalformedResponse)) is not None:
        text, prefix = _text(found), "malformed response from STOQ"
        return (text if text.startswith(prefix) else f"{prefix}: {text}"), 1
    # Only a connection that could not be made is "cannot reach"; a deadline, a size cap or a
    # body that broke off says so itself.
    if first(errors.Unreachable) is not None:
        return f"cannot reach the STOQ API at {base_url}: {_text(root)}", 1
    if (found := first(errors.TransportError)) is not None:
        return f"STOQ API at {base_url}: {_text(found)}", 1
    hint = next((h for e in chain if (h := base_url_hint(e))), "")
    return f"{stream} sync failed: {type(root).__name__}: {_text(root)}{hint}", 1


def _text(error: BaseException) -> str:
    """An error's first line."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else ""


def summary(
    reports: list[SyncReport], outcomes: list[CheckOutcome], rows: dict[str, int], seconds: float
) -> str:
    """Rows per table and check outcomes of a successful sync."""
    from preorders.sync_report import TABLES

    tables = ", ".join(f"{t} {rows.get(t)}" for r in reports for t in TABLES[r.stream])
    failed = sorted(o.name for o in outcomes if not o.passed)
    checks = f"checks {len(outcomes) - len(failed)}/{len(outcomes)} passed"
    if failed:
        checks += f" (failed: {', '.join(failed)})"
    return f"done in {seconds:.1f}s | rows: {tables} | {checks}"


class Recorder:
    """`python -m pipelines.recording` started before the walk, fed the sync's events after it.

    Importing Dagster and opening its storage take about 2 s of CPU: in a process of its own
    they run on the other core while this one walks the API and loads the warehouse. Without a
    DAGSTER_HOME nothing is recorded and nothing is started.
    """

    def __init__(self, proc: subprocess.Popen[str] | None) -> None:
        self._proc = proc
        self.started = time.monotonic()

    @classmethod
    def start(cls) -> Recorder:
        home = os.environ.get("DAGSTER_HOME")
        if not home:
            return cls(None)
        ensure_dagster_home(home)  # a minimal dagster.yaml: no banner, no telemetry
        command = [sys.executable, "-m", "pipelines.recording"]
        pipe = subprocess.PIPE
        return cls(subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=pipe, text=True))

    def record(
        self,
        reports: list[SyncReport],
        outcomes: list[CheckOutcome],
        rows: dict[str, int],
        shapes: dict[str, TableShape],
    ) -> str | None:
        """Hand the events over and wait until they are written; why not, or None when they were."""
        if self._proc is None:
            return None
        from preorders.sync_report import table_metadata

        payload = {
            "materializations": table_metadata(reports, rows, shapes),
            "checks": [asdict(o) for o in outcomes],
        }
        out, err = self._proc.communicate(json.dumps(payload))
        if self._proc.returncode == 0:
            return None
        last = (err or out).strip().splitlines()[-1:] or [f"exit {self._proc.returncode}"]
        return f"synced, but recording into the Dagster home failed: {last[0]}"

    def cancel(self, wait: float = CANCEL_WAIT_S) -> None:
        """Record nothing: close the helper's stdin and wait (bounded) until it has exited."""
        if self._proc is None:
            return
        # Never killed: a kill mid-way through creating the storage would leave it broken.
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.communicate("", timeout=wait)


def _nothing(line: str) -> None:
    """The echo of an informational line under --quiet."""


@contextmanager
def _stream_lines(echo: Echo) -> Iterator[None]:
    """Echo the one-line summary preorders.sync logs as each stream commits."""

    class Echoing(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            echo(scrub(f"  {record.getMessage()}"))

    logger, handler = logging.getLogger("preorders.sync"), Echoing(logging.INFO)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
