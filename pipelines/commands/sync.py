"""`preorders sync`: run the `sync_preorders` Dagster job in-process, with a line per stream."""

from __future__ import annotations

import argparse
import logging
import os
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pipelines import stopping
from pipelines.cli_support import (
    USAGE,
    Echo,
    api_key,
    ensure_dagster_home,
    fail,
    run_guarded,
    scrub,
    stoq_client,
)

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
        # Build the client once before the run: an unusable base URL (e.g. plain http to a
        # remote host) is a usage error now, before any request, not a failed Dagster step.
        with stoq_client():
            pass
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
    job, run_id = defs.resolve_job_def(JOB), str(uuid.uuid4())
    with _stream_lines(echo), _instance() as instance:
        try:
            # In a worker thread: Dagster leaves our SIGTERM/SIGINT handlers in place there.
            result = stopping.in_worker(
                lambda: job.execute_in_process(
                    run_config=run_config, instance=instance, raise_on_error=False, run_id=run_id
                ),
                "sync-run",
            )
        except KeyboardInterrupt as exc:  # a signal: record the run as canceled, then exit
            _mark_canceled(instance, run_id, exc)
            stopping.exit_stopped(exc)
    if not result.success:
        reason, code = failure_reason(result, base_url)
        return fail("sync", reason, code)
    echo(summary(result, time.monotonic() - started))
    return 0


def _mark_canceled(instance: Any, run_id: str, exc: KeyboardInterrupt) -> None:
    """Best effort: the Dagster run shows as canceled, not started forever."""
    try:
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            instance.report_run_canceled(run, message=f"stopped by {exc}")
    except Exception:  # the stop must go on whatever the instance says
        pass


def failure_reason(result: Any, base_url: str) -> tuple[str, int]:
    """(one line naming why the run failed, the exit code): 2 for a usage error, else 1."""
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.check_name.endswith("_sync_complete"):
            reason = evaluation.metadata.get("reason")
            return str(getattr(reason, "value", reason)), 1
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        chain, error = [], event.step_failure_data.error
        while error is not None:
            chain.append(error)
            error = error.cause
        return _reason({e.cls_name: e for e in chain}, chain[-1], event.step_key, base_url)
    return "the sync_preorders run failed (no step failure recorded)", 1


def _reason(named: dict[str, Any], root: Any, step: str, base_url: str) -> tuple[str, int]:
    """The line and exit code for a failed step, from the class names in its error chain."""
    if "ConfigurationError" in named:
        return _text(named["ConfigurationError"]), USAGE
    if "Unauthorized" in named:
        return "STOQ rejected the API key (401 Unauthorized): check STOQ_API_KEY", 1
    if "MalformedResponse" in named:
        text = _text(named["MalformedResponse"])
        prefix = "malformed response from STOQ"
        return (text if text.startswith(prefix) else f"{prefix}: {text}"), 1
    # Only a connection that could not be made is "cannot reach"; a deadline, a size cap or a
    # body that broke off says so itself.
    if "Unreachable" in named:
        return f"cannot reach the STOQ API at {base_url}: {_text(root)}", 1
    if "TransportError" in named:
        return f"STOQ API at {base_url}: {_text(named['TransportError'])}", 1
    return f"{step} failed: {root.cls_name}: {_text(root)}", 1


def _text(error: Any) -> str:
    """An error's first line without the `module.Class: ` Dagster puts in front of it."""
    lines = (error.message or "").strip().splitlines()
    line = lines[0] if lines else ""
    head, sep, rest = line.partition(": ")
    return rest if sep and head.split(".")[-1] == error.cls_name else line


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
