"""Keep the API key, and every 8+ character piece of it, out of what a Dagster run records.

    with scrubbed(stoq.api_key) as redact:      # sync_runs.message is redacted, and so is
        ...                                     # the text of any exception that leaves
        context.log.info(redact(line))
    with scrubbed([key_eu, key_us]):            # several shops' keys at once (the CLI)

Text is redacted whole, before anyone cuts it short (a cut key no longer matches the key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from stoq.redact import Redactor
from warehouse import runs

Redact = Callable[[str], str]


@contextmanager
def scrubbed(key: str | Iterable[str] | None) -> Iterator[Redact]:
    """Redact sync_runs messages written inside, and exceptions raised out of, the block; `key`
    is one key or several (each shop's)."""
    redact = redactor(key)
    with runs.redacting(redact):
        try:
            yield redact
        except Exception as exc:
            scrub_exception(exc, redact)
            raise


def redactor(key: str | Iterable[str] | None) -> Redact:
    """One function blanking every key given (and its pieces); `str` when there is none."""
    keys = [key] if isinstance(key, str) else list(key or ())
    redactors = [Redactor(k).redact for k in dict.fromkeys(k for k in keys if k and k.strip())]
    if not redactors:
        return str
    if len(redactors) == 1:
        return redactors[0]

    def redact(text: str) -> str:
        for one in redactors:
            text = one(text)
        return text

    return redact


def scrub_exception(exc: BaseException, redact: Redact) -> None:
    """Redact the text of `exc` and of every exception chained to it, in place.

    In place, not wrapped: callers (and the CLI's failure line) branch on the class.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(redact(a) if isinstance(a, str) else a for a in current.args)
        notes = getattr(current, "__notes__", None)
        if notes:
            current.__notes__ = [redact(n) for n in notes]
        for name in ("reason", "messages", "description"):  # text kept besides args
            value = getattr(current, name, None)
            if isinstance(value, str):
                setattr(current, name, redact(value))
            elif isinstance(value, list):
                setattr(current, name, [redact(v) if isinstance(v, str) else v for v in value])
        current = current.__cause__ or current.__context__
