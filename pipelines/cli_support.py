"""What every `preorders` command shares: the shop, the key, the client, the warehouse, errors.

    add_shop_arg(parser)                                            # --shop NAME
    return run_guarded("offers list", lambda: list_offers(args))   # the exit code
    with shop_client(args.shop) as (shop, client): ...              # inside the body

Inside the body, `shop_client(name)` picks the shop (`preorders.shops`: the single one, or the one
named; several and none named, or an unknown name, is a ConfigurationError: exit 2), reads its key
now (MissingKey when unset: exit 2) and builds its client from preorders.settings, as
`StoqResource` does; `open_warehouse()` opens the DuckDB file in force. No Dagster resource is
involved, so no command imports Dagster for it. STOQ errors, ValueErrors and a locked, unreadable
or uncreatable DuckDB file (an OSError) become one line on stderr and exit 1; an unusable base URL
or a bad shops file (`ConfigurationError`) exits 2. Every configured shop's key, and every 8+
character piece of it, is scrubbed from every line printed. Lives outside `commands/`, whose
every module is a subcommand.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

# Re-exported: the commands import these from here. preorders.settings imports only the stdlib.
from preorders.settings import (
    NO_KEY,
    MissingKey,
    api_key,
    open_warehouse,
    read_key,
)

if TYPE_CHECKING:
    import duckdb

    from pipelines.cli_progress import LiveBars
    from preorders.actions import Outcome
    from preorders.progress import Event, Progress
    from preorders.shops import Shop
    from stoq import StoqClient

__all__ = [
    "NO_KEY",
    "USAGE",
    "Echo",
    "MissingKey",
    "add_selection_args",
    "add_shop_arg",
    "api_key",
    "configured_shops",
    "ensure_dagster_home",
    "fail",
    "open_warehouse",
    "progress_display",
    "read_key",
    "run_actions",
    "run_guarded",
    "scrub",
    "selected_shop",
    "selected_shops",
    "shop_client",
    "shop_names",
]

Echo = Callable[[str], None]

USAGE = 2  # the exit code of a usage error: no key, an unusable base URL, bad arguments


# -- shops -------------------------------------------------------------------------------------

#: The shops loaded last, and the environment they were loaded from (tests run many commands
#: in one process, each with its own environment).
_loaded: dict[str, Any] = {"env": None, "shops": []}


def add_shop_arg(parser: argparse.ArgumentParser, *, every_by_default: bool = False) -> None:
    """`--shop NAME`: the shop a command works on (see `selected_shop`, `selected_shops`)."""
    default = (
        "every configured shop"
        if every_by_default
        else "the only shop configured; with several, required"
    )
    parser.add_argument(
        "--shop", default=None, metavar="NAME",
        help=f"a shop named in $PREORDERS_SHOPS (default: {default})",
    )  # fmt: skip


def shops_file_set() -> bool:
    """Whether PREORDERS_SHOPS names a shops file (else: one shop, `default`, as before shops)."""
    from preorders.shops import SHOPS_ENV

    return bool(os.environ.get(SHOPS_ENV, "").strip())


def configured_shops() -> list[Shop]:
    """The shops configured now (a bad file: ConfigurationError, exit 2, before any request),
    loaded once per environment (`scrub` asks for them on every line it prints)."""
    from preorders.shops import load_shops

    env = tuple(sorted(os.environ.items()))
    if _loaded["env"] != env:
        _loaded["shops"] = load_shops()
        _loaded["env"] = env
    return list(_loaded["shops"])


def selected_shop(name: str | None, *, key_first: bool = False, hint: str = "") -> Shop:
    """The shop named (else the single one); ConfigurationError naming the choices otherwise.

    `key_first`: without a shops file, STOQ_API_KEY is checked before anything else, as before
    shops (MissingKey, exit 2, before the client package loads; `hint` ends its message).
    """
    from preorders.shops import DEFAULT_SHOP, pick

    if key_first and name in (None, DEFAULT_SHOP) and not shops_file_set():
        api_key(hint=hint)
    return pick(configured_shops(), name)


def selected_shops(name: str | None) -> list[Shop]:
    """The shop named, or every configured shop when none is (`sync`, `status`, `report`)."""
    from preorders.shops import pick

    shops = configured_shops()
    return shops if name is None else [pick(shops, name)]


def shop_names(name: str | None) -> list[str]:
    """The names `selected_shops` gives; without a shops file, `default` with no import."""
    from preorders.shops import DEFAULT_SHOP

    if name is None and not shops_file_set():
        return [DEFAULT_SHOP]
    return [shop.name for shop in selected_shops(name)]


@contextmanager
def shop_client(name: str | None, *, hint: str = "") -> Iterator[tuple[Shop, StoqClient]]:
    """`with shop_client(args.shop) as (shop, client):` the shop picked and its client."""
    shop = selected_shop(name, key_first=True, hint=hint)
    with shop.client() as client:
        yield shop, client


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


#: A ledger action of one shop: (its client or None for a dry run, the warehouse, its name).
Act = Callable[["StoqClient | None", "duckdb.DuckDBPyConnection", str], "list[Outcome]"]


def run_actions(
    command: str,
    act: Act,
    *,
    needs_key: bool,
    shop: str | None = None,
    echo: Echo = print,
) -> int:
    """Run a ledger action (release, charge) of one shop and echo a line per order plus a summary.

    `act(client, conn, shop_name)`. Without `needs_key` and without a key (a dry run) `act` gets
    no client. Exit code 1 when an order failed, its outcome is unknown, or it could not be sent
    at all (so cron sees it).
    """
    from preorders.actions import summary

    def body() -> int:
        picked = selected_shop(shop, key_first=needs_key)
        keyed = needs_key or picked.key_is_set()
        from preorders.settings import warehouse_from_env
        from preorders.status import require_synced

        with picked.client() if keyed else nullcontext() as client, open_warehouse() as conn:
            require_synced(conn, warehouse_from_env().path, ("orders",), shop=picked.name)
            outcomes = act(client, conn, picked.name)
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
    """Never print a shop's key, nor any 8+ character piece of it, whatever a message contains."""
    keys = secret_keys()
    if not keys:
        return text  # nothing to blank (and no need to load the client package)
    from stoq.redact import redact

    for key in keys:
        text = redact(text, key)
    return text


def secret_keys() -> list[str]:
    """Every key to keep out of output: STOQ_API_KEY's and each configured shop's, read now."""
    shops: list[Shop] = []
    if shops_file_set():
        # Loaded once per environment; a bad file is the command's own error to report (and
        # its messages never quote a key).
        with suppress(Exception):
            shops = configured_shops()
    names = ["STOQ_API_KEY", *(shop.api_key_env for shop in shops)]
    values = (os.environ.get(name, "").strip() for name in names)
    return list(dict.fromkeys(v for v in values if v))


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
