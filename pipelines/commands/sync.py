"""`preorders sync`: run the `sync_preorders` Dagster job in-process, with a line per stream."""

from __future__ import annotations

import argparse
import logging
import os
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pipelines.cli_support import Echo, api_key, ensure_dagster_home, fail, run_guarded, scrub

JOB = "sync_preorders"
ORDERS_OP = "orders_assets"
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


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
    """Check the key, run the job, print the summary; 1 with a one-line reason on failure."""

    def body() -> int:
        api_key(hint="or try `preorders demo`, which needs none")  # the job reads it itself
        return run_sync(args.mode)

    return run_guarded("sync", body)


def run_sync(mode: str = "auto", echo: Echo = print) -> int:
    """Execute the `sync_preorders` job in-process; returns the exit code."""
    with warnings.catch_warnings():
        # Beta/preview notes from Dagster are for developers, not for an operator's terminal.
        warnings.filterwarnings("ignore", module=r"dagster")
        return _run_sync(mode, echo)


def _run_sync(mode: str, echo: Echo) -> int:
    from pipelines.definitions import defs  # Dagster loads only when a sync runs
    from pipelines.resources import StoqResource, WarehouseResource

    base_url = StoqResource(api_key="-").resolved_base_url()  # the job's resource holds the key
    path = WarehouseResource().resolved_path()
    echo(f"sync ({mode}) from {base_url} into {path}")
    run_config = {**QUIET, "ops": {ORDERS_OP: {"config": {"mode": mode}}}}
    started = time.monotonic()
    with _stream_lines(echo), _instance() as instance:
        result = defs.resolve_job_def(JOB).execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False
        )
    if not result.success:
        return fail("sync", failure_reason(result, base_url))
    echo(summary(result, time.monotonic() - started))
    return 0


def failure_reason(result: Any, base_url: str) -> str:
    """One line naming why the run failed (401, unreachable host, else the first error)."""
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        chain = []
        while error is not None:
            chain.append(error)
            error = error.cause
        names = {e.cls_name for e in chain}
        root = chain[-1]
        first_line = (root.message or "").strip().splitlines()[0] if root.message else ""
        if "Unauthorized" in names:
            return "STOQ rejected the API key (401 Unauthorized): check STOQ_API_KEY"
        if "TransportError" in names:
            return f"cannot reach the STOQ API at {base_url}: {first_line}"
        return f"{event.step_key} failed: {root.cls_name}: {first_line}"
    return "the sync_preorders run failed (no step failure recorded)"


def summary(result: Any, seconds: float) -> str:
    """Rows per table and check outcomes of a successful run."""
    rows = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        table_rows = materialization.metadata.get("table_rows")
        rows[materialization.asset_key.to_user_string()] = getattr(table_rows, "value", None)
    evaluations = result.get_asset_check_evaluations()
    failed = [e.check_name for e in evaluations if not e.passed]
    tables = ", ".join(f"{name} {n}" for name, n in rows.items())
    checks = f"checks {len(evaluations) - len(failed)}/{len(evaluations)} passed"
    if failed:
        checks += f" (failed: {', '.join(sorted(failed))})"
    return f"done in {seconds:.1f}s | rows: {tables} | {checks}"


@contextmanager
def _stream_lines(echo: Echo) -> Iterator[None]:
    """Echo the one-line summary assets.sync logs as each stream commits."""

    class Echoing(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            echo(scrub(f"  {record.getMessage()}"))

    logger, handler = logging.getLogger("assets.sync"), Echoing(logging.INFO)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


@contextmanager
def _instance() -> Iterator[Any]:
    """The DAGSTER_HOME instance when one is configured (given a minimal dagster.yaml when it has
    none, so Dagster prints no warning or telemetry banner), else a throwaway in-memory one."""
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if home:
        ensure_dagster_home(home)
    instance = dg.DagsterInstance.get() if home else None
    with instance or dg.DagsterInstance.ephemeral() as active:
        yield active
