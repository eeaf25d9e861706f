"""SIGTERM and SIGINT stop the CLI within seconds: one line, exit 128 + signal, no traceback.

    with on_signals("sync"):   # a signal raises Stopped (a KeyboardInterrupt) in the main thread
        run_the_command()
    # main() catches it and calls exit_stopped(): one line on stderr, then os._exit(143 or 130)

Whatever was committed stays (DuckDB keeps the last committed snapshot; the ledger's open rows
are settled by a later run's read-back). The exit is `os._exit`, so worker threads still blocked
on a slow socket cannot hold the process; and a watchdog thread, woken by the signal itself
(`signal.set_wakeup_fd`, so even while the main thread is stuck in C code), ends the process
after `GRACE_S` seconds if the orderly path has not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import NoReturn

SIGNALS = (signal.SIGTERM, signal.SIGINT)
GRACE_S = 10.0  # the orderly stop must finish within this; then the watchdog ends the process
_said = threading.Lock()  # the stop line is printed once, by whichever path gets there first
_command = {"name": ""}  # the command running under on_signals(), for the stop line
_received: list[int] = []  # signals that arrived; DuckDB may swallow the Stopped they raised


class Stopped(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM or SIGINT arrives; `.signum` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(signum: int) -> int:
    """The shell's convention: 128 + the signal number (143 for SIGTERM, 130 for SIGINT)."""
    return 128 + signum


def stop_line(command: str, signum: int) -> str:
    """The one line a stopped command prints."""
    name, who = signal.Signals(signum).name, f"preorders {command}".strip()
    return f"{who}: stopped by {name}; the last committed data is kept\n"


@contextlib.contextmanager
def on_signals(command: str, grace: float = GRACE_S) -> Iterator[None]:
    """While inside, SIGTERM/SIGINT raise `Stopped` in the main thread (elsewhere: no change)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    _command["name"] = command
    _received.clear()
    previous = {s: signal.getsignal(s) for s in SIGNALS}

    def handler(signum: int, _frame: object) -> None:
        _received.append(signum)
        raise Stopped(signum)

    for s in SIGNALS:
        signal.signal(s, handler)
    old_fd, write_end = _watchdog(command, grace)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        if write_end >= 0:
            signal.set_wakeup_fd(old_fd)
            os.close(write_end)  # the watchdog reads end-of-file and leaves


def exit_stopped(exc: KeyboardInterrupt, command: str | None = None) -> NoReturn:
    """Print the stop line, flush what was printed, and end the process now (never returns)."""
    command = command or _command["name"]
    signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
    if threading.current_thread() is threading.main_thread():
        for s in SIGNALS:  # a second signal must not interrupt the stop itself
            signal.signal(s, signal.SIG_IGN)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    _finish(command, signum)


def _finish(command: str, signum: int) -> NoReturn:
    """One line on stderr (raw write: no Python lock can block it), then os._exit."""
    if _said.acquire(blocking=False):
        with contextlib.suppress(OSError):
            os.write(2, stop_line(command, signum).encode())
    os._exit(exit_code(signum))


def _watchdog(command: str, grace: float) -> tuple[int, int]:
    """Start a daemon thread the first signal wakes; it ends the process `grace` s later."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        old_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except ValueError:  # not the main thread of the main interpreter
        os.close(read_end)
        os.close(write_end)
        return -1, -1

    def watch() -> None:
        with contextlib.suppress(OSError):
            first = os.read(read_end, 1)  # the C-level handler writes the signal number here
            os.close(read_end)
            if first:
                time.sleep(grace)
                _finish(command, first[0])

    threading.Thread(target=watch, name="stop-watchdog", daemon=True).start()
    return old_fd, write_end


def reraise_if_stopped(exc: BaseException) -> None:
    """Raise Stopped for an error a signal caused: DuckDB turns a Stopped raised during a query
    into `RuntimeError: Query interrupted`."""
    if _received:
        raise Stopped(_received[0]) from exc


def stop_signal() -> int | None:
    """The first SIGTERM/SIGINT received under `on_signals`, if any."""
    return _received[0] if _received else None
