"""What `preorders sync` says: a failed stream's one-line reason, the summary line of a shop
that synced, and each stream's line as it commits (from the `preorders.sync` logger)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pipelines.cli_support import USAGE, Echo, base_url_hint, scrub

if TYPE_CHECKING:
    from preorders.checks import CheckOutcome
    from preorders.sync_report import SyncReport


def failure_line(
    exc: BaseException, base_url: str, stream: str, key_env: str = "STOQ_API_KEY"
) -> tuple[str, int]:
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
        return f"STOQ rejected the API key (401 Unauthorized): check {key_env}", 1
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


@contextmanager
def stream_lines(echo: Echo) -> Iterator[None]:
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
