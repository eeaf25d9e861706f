"""Blank an API key, and every piece of it, out of text before the text leaves the client."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

T = TypeVar("T")

PUBLIC_PREFIX = "stoq_api_key_"  # the documented key format: this prefix, then the secret
PIECE = 8  # a run of this many characters of the secret is blanked wherever it appears
#: A window reaching back into the public prefix is a leak only with this many secret characters:
#: fewer, and the names people print beside keys (STOQ_API_KEY_SHOP2, api_key_env) would match.
MIN_SECRET = 4
REDACTED = "<redacted>"
#: How much of a text is redacted at most: redacting a 32 MiB body would cost more than it saves.
SCAN = 8_000
#: The longest text one message keeps.
CUT = 200
#: The shortest key blanked out of a whole answer's body (documented keys have 45 characters).
BODY_KEY = 16


class Redactor:
    """`redact(text)` blanks the whole key and any run of 8+ characters of its secret part.

    Redact before cutting text short: a cut can leave a piece of the key that no longer
    matches the whole key. The public prefix alone is not secret and stays. Pieces match in
    any letter case: a server that echoes the key upper-cased leaks it all the same.
    """

    def __init__(self, key: str) -> None:
        self._key = key.strip()
        start = len(PUBLIC_PREFIX) if self._key.startswith(PUBLIC_PREFIX) else 0
        # Every 8-character window of the key that holds at least MIN_SECRET secret characters:
        # a text window equal to one of them is part of a run of the key, so it is blanked.
        first = max(0, start - PIECE + MIN_SECRET)
        folded = _fold(self._key)
        self._pieces = frozenset(
            folded[i : i + PIECE] for i in range(first, len(folded) - PIECE + 1)
        )

    def redact(self, text: str) -> str:
        """`text` with the key and every 8+ character piece of its secret blanked."""
        if not self._key or not text:
            return text
        text = text.replace(self._key, REDACTED)
        if not self._pieces or len(text) < PIECE:
            return text
        folded = _fold(text)
        hits = [i for i in range(len(text) - PIECE + 1) if folded[i : i + PIECE] in self._pieces]
        if not hits:
            return text
        out: list[str] = []
        end = 0  # text[:end] is already written
        run_start, run_end = hits[0], hits[0] + PIECE
        for i in hits[1:]:
            if i <= run_end:  # overlapping or touching windows make one run
                run_end = i + PIECE
                continue
            out += [text[end:run_start], REDACTED]
            end, run_start, run_end = run_end, i, i + PIECE
        out += [text[end:run_start], REDACTED, text[run_end:]]
        return "".join(out)

    def clip(self, text: str, limit: int = CUT) -> str:
        """`text` redacted, its control characters escaped, then cut to `limit` characters
        (redacting first: a cut key leaks). Escaped, a server's newline or terminal escape
        cannot forge a line of a command's output."""
        # Only the first SCAN characters are redacted. A key split at that boundary is not
        # blanked, but the cut to `limit` (far below SCAN) throws that part away anyway.
        return self.redact(text[: max(SCAN, limit)]).translate(_CONTROLS)[:limit]

    def body(self, content: bytes) -> bytes:
        """A whole answer's body with the key, as sent or in one letter case, blanked: a server
        that echoes it into a record would otherwise have it stored. Only a key of at least
        BODY_KEY characters without quotes or backslashes is blanked: a shorter one ('1',
        'true', 'demo', no real key) could be a JSON token or a record's own text, and
        blanking it would break the JSON or rewrite data. Pieces are left: scanning every
        window of a 32 MiB page costs more than the echo it might catch."""
        key = self._key
        if len(key) < BODY_KEY or '"' in key or "\\" in key:
            return content
        for form in {key, key.lower(), key.upper()}:
            raw = form.encode()
            if raw in content:
                content = content.replace(raw, REDACTED.encode())
        return content

    def fields(self, record: T, *names: str) -> T:
        """A copy of a dataclass `record` with the named fields' text clipped (see `value`)."""
        values = {n: self.value(getattr(record, n)) for n in names}
        return replace(record, **values)  # type: ignore[type-var]  # any dataclass

    def value(self, value: Any, depth: int = 0) -> Any:
        """A JSON value with every string in it clipped to 500 characters; shape kept."""
        if isinstance(value, str):
            return self.clip(value, 500)
        if depth > 20:  # deeper than any error object: dropped rather than recursed into
            return None
        if isinstance(value, dict):
            return {self.clip(str(k), 500): self.value(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, depth + 1) for v in value]
        return value

    def exception(self, exc: BaseException, depth: int = 0) -> BaseException:
        """A copy of a foreign exception and its chain holding only redacted, cut text.

        The copy keeps the type where the type takes one message (else its nearest base that
        does) and the traceback, but no other attribute: an httpx error's request or a
        JSONDecodeError's `doc` could still hold what the server echoed.
        """
        text = self.clip(str(exc), 500)
        copy: BaseException | None = None
        for cls in type(exc).__mro__:
            try:
                copy = cls(text)
            except Exception:  # a type with more required arguments: try its base
                continue
            break
        copy = copy or Exception(text)
        copy.__traceback__ = exc.__traceback__
        cause = exc.__cause__ or exc.__context__
        if cause is not None and depth < 5:
            copy.__cause__ = self.exception(cause, depth + 1)
        return copy

    def __repr__(self) -> str:
        return f"Redactor(key={REDACTED})"


#: Control characters (C0, DEL, C1) as the escapes Python writes for them: '\n', '\x1b'.
_CONTROLS = {c: repr(chr(c))[1:-1] for c in (*range(32), *range(127, 160))}


def _fold(text: str) -> str:
    """`text` in lower case, character for character (positions stay those of `text`)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters lower to two ("İ"): keep those as they are so indexes line up.
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def redact(text: str, key: str | None) -> str:
    """`text` with `key` (and its pieces) blanked; unchanged when there is no key."""
    return Redactor(key).redact(text) if key else text
