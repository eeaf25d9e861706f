"""An answer's body: streamed under the attempt's deadline and size cap, parsed, its error text."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from stoq._params import ascii_digits
from stoq.errors import ConfigurationError
from stoq.redact import SCAN, Redactor

#: At most this many error messages of one answer are kept.
MAX_MESSAGES = 20


class Cut(Exception):
    """The answer broke the deadline or the size cap (the caller closes the response)."""


class Limits:
    """One attempt's deadline (seconds, from `started`) and body size cap (bytes)."""

    def __init__(
        self,
        deadline: float,
        max_bytes: int,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.now = now
        self.started = now()

    def left(self) -> float:
        """Seconds left before the deadline (never below a millisecond)."""
        return max(self.deadline - (self.now() - self.started), 0.001)

    def late(self) -> bool:
        """True once the deadline has passed."""
        return self.now() - self.started >= self.deadline

    def timeout(self, base: httpx.Timeout) -> httpx.Timeout:
        """`base` with every phase capped at the time left, so no single wait outlives it."""
        left = self.left()

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cap(base.connect),
            read=cap(base.read),
            write=cap(base.write),
            pool=cap(base.pool),
        )

    def overdue(self) -> Cut:
        """The error for an answer still incomplete at the deadline."""
        return Cut(f"no complete answer within the {self.deadline:g} s deadline")

    def too_big(self) -> Cut:
        """The error for an answer over the size cap."""
        return Cut(f"answer larger than the {size(self.max_bytes)} limit")

    def read(self, response: httpx.Response) -> bytes:
        """The whole (decoded) body, chunk by chunk; Cut as soon as a limit breaks."""
        declared = response.headers.get("content-length", "")
        if ascii_digits(declared) and int(declared) > self.max_bytes:
            raise self.too_big()
        # httpcore 1.0 reads extensions["timeout"]["read"] once per response (in
        # _receive_response_body), not per chunk: lowering it mid-body would change nothing. So
        # the clock is checked between chunks, and one stall is bounded by the read timeout the
        # attempt started with (itself capped at the deadline by `timeout`).
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > self.max_bytes:  # decoded bytes: a gzip bomb counts at its full size
                raise self.too_big()
            chunks.append(chunk)
            if self.late():
                raise self.overdue()
        return b"".join(chunks)


def checked_limits(*, timeout: float, deadline: float, max_body_bytes: int) -> None:
    """ConfigurationError unless the timeout and deadline are positive seconds and the body
    cap a positive byte count."""
    for name, value in (("timeout", timeout), ("deadline", deadline)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ConfigurationError(f"{name} must be a positive number of seconds, not {value!r}")
    if (
        isinstance(max_body_bytes, bool)
        or not isinstance(max_body_bytes, int)
        or max_body_bytes < 1
    ):
        raise ConfigurationError(
            f"max_body_bytes must be a positive whole number of bytes, not {max_body_bytes!r}"
        )


def size(n: int) -> str:
    """A byte count for a message: '32 MiB', '512 KiB' or '1000 bytes'."""
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def parse(content: bytes) -> Any:
    """The JSON body; an empty body is {} (raises ValueError when it is not JSON)."""
    if not content.strip():
        return {}
    try:
        return json.loads(content)
    except RecursionError as exc:  # "[[[[..." a hundred thousand deep
        raise ValueError("JSON nested too deeply") from exc


def messages(body: Any, content: bytes, redactor: Redactor) -> list[str]:
    """Error text from `{"errors": [...]}`, v1 `{"error", "message"}`, or the raw body, each
    message redacted and then cut (the key is blanked before any cut can split it)."""
    found: list[Any] = []
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list):
            found = errors[:MAX_MESSAGES]
        elif isinstance(errors, str | dict):
            found = [errors]
        else:
            found = [body[k] for k in ("error", "message") if body.get(k)]
    if found:
        return [redactor.clip(str(m)) for m in found]
    # Decode no more than SCAN characters' worth: a 32 MiB body is never turned into text.
    text = content[: SCAN * 4].decode("utf-8", errors="replace").strip()
    return [redactor.clip(text)] if text else []
