"""The `preorders` command line: one subcommand module per task under pipelines/commands/."""

from __future__ import annotations

import argparse
import difflib
import importlib
import pkgutil
import re
import sys
from importlib import metadata
from typing import Any, NoReturn

from pipelines import commands, stopping
from pipelines.cli_support import progress_display

QUIET = "no progress and no informational lines; errors and the command's result still print"
_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


class Parser(argparse.ArgumentParser):
    """argparse, plus "did you mean …?" for a mistyped command or verb."""

    def error(self, message: str) -> NoReturn:
        found = _INVALID_CHOICE.search(message)
        if found:
            choices = re.findall(r"'([^']*)'", found.group(2))
            close = difflib.get_close_matches(found.group(1), choices, n=1)
            if close:
                message += f"; did you mean '{close[0]}'?"
        super().error(message)


class CommandParser(Parser):
    """A command's or verb's parser: `--quiet` after the command too (`preorders sync -q`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # SUPPRESS: absent here, the top-level parser's value (given before the command) stands.
        self.add_argument(
            "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=QUIET
        )


def version() -> str:
    """The installed package's version ("unknown" when run from a bare checkout)."""
    try:
        return metadata.version("stoq-preorders")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """Collect every `register(subparsers)` found in pipelines/commands/.

    Every command imports every commands module, so a module's top imports only argparse, the
    stdlib and cli_support; the core, the client, DuckDB, pandas and Dagster load in handlers
    (tests/preorders/test_cli_startup.py checks that the short commands never load Dagster).
    """
    parser = Parser(
        prog="preorders", description="STOQ Preorders v2: sandbox, sync, actions, reports."
    )
    parser.add_argument("--version", action="version", version=f"preorders {version()}")
    parser.add_argument("-q", "--quiet", action="store_true", help=QUIET)
    subparsers = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=CommandParser
    )
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen subcommand; its return value is the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt as exc:  # Ctrl-C while the commands load: the same one line
        stopping.exit_stopped(exc, "")
    name = " ".join(filter(None, (args.command, getattr(args, "verb", None))))
    try:
        # The display is inside: live bars are stopped (erased) before the stop line prints.
        with stopping.on_signals(name), progress_display(args.quiet) as progress:
            args.progress = progress
            return int(args.handler(args) or 0)
    except KeyboardInterrupt as exc:  # SIGTERM, SIGINT (Ctrl-C): one line, exit 143 / 130
        stopping.exit_stopped(exc, name)
    except Exception:
        # A library may turn the Stopped a signal raised into its own error (DuckDB: "Query
        # interrupted"): still a stop, with its one line, not a traceback.
        signum = stopping.stop_signal()
        if signum is None:
            raise
        stopping.exit_stopped(stopping.Stopped(signum), name)


if __name__ == "__main__":
    sys.exit(main())
