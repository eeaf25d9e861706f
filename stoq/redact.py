"""Blank an API key, and every piece of it, out of text before the text leaves the client."""

from __future__ import annotations

PUBLIC_PREFIX = "stoq_api_key_"  # the documented key format: this prefix, then the secret
PIECE = 8  # a run of this many characters of the secret is blanked wherever it appears
REDACTED = "<redacted>"


class Redactor:
    """`redact(text)` blanks the whole key and any run of 8+ characters of its secret part.

    Redact before cutting text short: a cut can leave a piece of the key that no longer
    matches the whole key. The public prefix alone is not secret and stays.
    """

    def __init__(self, key: str) -> None:
        self._key = key.strip()
        start = len(PUBLIC_PREFIX) if self._key.startswith(PUBLIC_PREFIX) else 0
        # Every 8-character window of the key that holds at least one secret character:
        # a text window equal to one of them is part of a run of the key, so it is blanked.
        first = max(0, start - PIECE + 1)
        self._pieces = frozenset(
            self._key[i : i + PIECE] for i in range(first, len(self._key) - PIECE + 1)
        )

    def redact(self, text: str) -> str:
        """`text` with the key and every 8+ character piece of its secret blanked."""
        if not self._key or not text:
            return text
        text = text.replace(self._key, REDACTED)
        if not self._pieces or len(text) < PIECE:
            return text
        hits = [i for i in range(len(text) - PIECE + 1) if text[i : i + PIECE] in self._pieces]
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

    def __repr__(self) -> str:
        return f"Redactor(key={REDACTED})"


def redact(text: str, key: str | None) -> str:
    """`text` with `key` (and its pieces) blanked; unchanged when there is no key."""
    return Redactor(key).redact(text) if key else text
