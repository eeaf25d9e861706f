"""What every `preorders` command shares: the key, the client, the warehouse, one-line errors.

    return run_guarded("offers list", lambda: list_offers(args))   # the exit code

Inside the body, `stoq_client()` reads STOQ_API_KEY now (MissingKey when unset: exit 2) and
builds the client from preorders.settings, as `StoqResource` does; `open_warehouse()` opens the
DuckDB file in force. No Dagster resource is involved, so no command imports Dagster for it.
STOQ errors, ValueErrors and a locked, unreadable or uncreatable DuckDB file (an OSError) become
one line on stderr and exit 1; an unusable base URL (`ConfigurationError`, e.g. plain http to a
remote host) exits 2. The key, and every 8+ character piece of it, is scrubbed from every line
printed. Lives outside `commands/`, whose every module is a subcommand.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

# Re-exported: the commands import these from here. preorders.settings imports only the stdlib.
from preorders.settings import (
    NO_KEY,
    MissingKey,
    api_key,
    client_from_env,
    open_warehouse,
    read_key,
)

if TYPE_CHECKING:
    import duckdb

    from pipelines.cli_progress import LiveBars
    from preorders.actions import Outcome
    from preorders.progress import Event, Progress
    from stoq import StoqClient

__all__ = [
    "NO_KEY",
    "USAGE",
    "Echo",
    "MissingKey",
    "add_selection_args",
    "api_key",
    "ensure_dagster_home",
    "fail",
    "open_warehouse",
    "progress_display",
    "read_key",
    "run_actions",
    "run_guarded",
    "scrub",
    "stoq_client",
]

Echo = Callable[[str], None]

USAGE = 2  # the exit code of a usage error: no key, an unusable base URL, bad arguments


def stoq_client(key: str | None = None) -> StoqClient:
    """A client configured from the environment (key: STOQ_API_KEY unless given), as
    StoqResource builds it; MissingKey (exit 2) before the client is imported. Use it in `with`."""
    return client_from_env(api_key=key or None)


#: What a Dagster home the CLI uses gets when it has no dagster.yaml (the tests' homes too): no
#: telemetry, no banner, pool limit 1 (one DuckDB writer at a time). The file ships as an example.
MINIMAL_DAGSTER_YAML = (Path(__file__).parent / "dagster.yaml").read_text()


def ensure_dagster_home(home: str | os.PathLike[str]) -> Path:
    """Create the Dagster home folder and, unless one exists, a minimal dagster.yaml in it (an
    existing one is never overwritten); returns the folder."""
    folder = Path(home)
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "dagster.yaml"
    if not config.exists():
        config.write_text(MINIMAL_DAGSTER_YAML)
    return folder


def run_guarded(command: str, body: Callable[[], object]) -> int:
    """Run `body`; its int result is the exit code, its known errors one line and 1 (2: no key)."""
    try:
        result = body()
    except MissingKey as exc:
        return fail(command, str(exc), USAGE)
    except Exception as exc:
        from pipelines.stopping import reraise_if_stopped
        from stoq import errors  # late: `report` and a missing key never load the client

        reraise_if_stopped(exc)  # e.g. DuckDB's "Query interrupted" after SIGTERM

        if isinstance(exc, errors.ConfigurationError):  # e.g. plain http to a remote host
            return fail(command, str(exc), USAGE)
        # The DuckDB lock, a bad path: one line, not a traceback.
        if type(exc).__module__.startswith(("duckdb", "_duckdb")):
            return fail(command, f"warehouse unavailable: {exc}")
        if isinstance(exc, errors.StoqError | ValueError):
            return fail(command, str(exc) + base_url_hint(exc))
        if isinstance(exc, OSError):  # e.g. PREORDERS_DUCKDB_PATH where no folder can be made
            return fail(command, f"warehouse unavailable: {exc}")
        raise
    return result if isinstance(result, int) else 0


#: Paths every STOQ shop answers: a 404 on one of them means the base URL is wrong.
EVERY_SHOP_HAS = ("/help", "/preorders/offers", "/preorders/orders", "/preorders/reports")


def base_url_hint(exc: BaseException) -> str:
    """ "; check STOQ_BASE_URL …" for a 404 on a path every shop has, else ""."""
    from stoq import errors

    if isinstance(exc, errors.NotFound) and exc.path.rstrip("/") in EVERY_SHOP_HAS:
        return (
            "; check STOQ_BASE_URL: every STOQ shop has this path, so the base URL is probably "
            "wrong (it ends in /api/v2/external)"
        )
    return ""


def run_actions(
    command: str,
    act: Callable[[StoqClient | None, duckdb.DuckDBPyConnection], list[Outcome]],
    *,
    needs_key: bool,
    echo: Echo = print,
) -> int:
    """Run a ledger action (release, charge) and echo a line per order plus a summary.

    Without `needs_key` and without a key (a dry run) `act` gets no client. Exit code 1 when an
    order failed, its outcome is unknown, or it could not be sent at all (so cron sees it).
    """
    from preorders.actions import summary

    def body() -> int:
        key = api_key() if needs_key else read_key()
        from preorders.settings import warehouse_from_env
        from preorders.status import require_synced

        with stoq_client(key) if key else nullcontext() as client, open_warehouse() as conn:
            require_synced(conn, warehouse_from_env().path, ("orders",))
            outcomes = act(client, conn)
        for outcome in outcomes:
            echo(scrub(outcome.line()))  # a detail may quote the server's error text
        echo(summary(outcomes))
        return 1 if any(o.status in ("failed", "unknown", "not_sent") for o in outcomes) else 0

    return run_guarded(command, body)


def add_selection_args(parser: argparse.ArgumentParser) -> None:
    """`--limit N` and `--order ID ...`: which orders a ledger action (release, charge) takes."""
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="at most N orders")
    parser.add_argument(
        "--order", dest="orders", type=int, nargs="+", action="extend", metavar="ID",
        help="only these Shopify order ids",
    )  # fmt: skip


def fail(command: str, message: str, code: int = 1) -> int:
    """Print `preorders <command>: <message>` (key scrubbed) to stderr; return `code`."""
    print(f"preorders {command}: {scrub(message)}", file=sys.stderr)
    return code


def scrub(text: str) -> str:
    """Never print the key, nor any 8+ character piece of it, whatever a message contains."""
    key = read_key()
    if not key:
        return text  # nothing to blank (and no need to load the client package)
    from stoq.redact import redact

    return redact(text, key)


@contextmanager
def progress_display(quiet: bool, stream: TextIO | None = None) -> Iterator[Progress]:
    """Where a command's long work reports: nothing (--quiet), live bars (a terminal), lines."""
    # Lines: each phase's start and end, at most one other line every 10 s, time-stamped (cron
    # logs have no time of their own). The bars stop on the way out: a return, an error, a stop.
    if quiet:
        yield _quiet
        return
    display = _OnFirstEvent(stream or sys.stderr)
    try:
        yield display
    finally:
        display.close()


def _quiet(event: Event) -> None:
    """--quiet: no progress."""


class _OnFirstEvent:
    """Bars or lines made at the first event: a command with no long work loads neither."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._shown: Progress | None = None
        self._bars: LiveBars | None = None
        self._closed = False  # a worker thread's late event must not start the bars again
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            if self._closed:
                return
            if self._shown is None:
                self._shown = self._make()
        self._shown(event)

    def _make(self) -> Progress:
        if not self._stream.isatty():
            from preorders.progress_lines import Lines, clock_stamp

            out = self._stream
            return Lines(lambda line: print(scrub(line), file=out, flush=True), stamp=clock_stamp)
        from rich.console import Console

        from pipelines.cli_progress import LiveBars

        redirect = sys.stdout.isatty()  # a piped stdout must not end up on stderr
        self._bars = LiveBars(Console(file=self._stream), redirect_stdout=redirect)
        return self._bars

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._bars is not None:
                self._bars.close()
