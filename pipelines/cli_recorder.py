"""The `preorders sync` side of `python -m pipelines.recording`: start it early, feed it once.

    recorder = Recorder.start(home)         # before the walk; None: no Dagster home, no helper
    ...                                     # the sync
    why_not = recorder.record(documents)    # one per shop: {"shop", "materializations", "checks"}

Importing Dagster and opening its storage take about 2 s of CPU: in a process of its own they
run on the other core while this one walks the API and loads the warehouse. Imports only the
standard library: this process never loads Dagster.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CANCEL_WAIT_S = 6.0  # the helper opens the Dagster storage in ~1-2 s; the stop's grace is 10 s


class Recorder:
    """`python -m pipelines.recording` started before the walk, fed the sync's events after it.

    Without a Dagster home nothing is recorded and nothing is started.
    """

    def __init__(self, proc: subprocess.Popen[str] | None) -> None:
        self._proc = proc
        self.started = time.monotonic()

    @classmethod
    def start(cls, home: Path | None) -> Recorder:
        """The helper for the Dagster home `home` (its dagster.yaml in place), or none."""
        if home is None:
            return cls(None)
        command = [sys.executable, "-m", "pipelines.recording"]
        pipe = subprocess.PIPE
        return cls(subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=pipe, text=True))

    def record(self, documents: list[dict[str, Any]]) -> str | None:
        """Hand every shop's events over and wait until they are written; why not, or None when
        they were. One shop: its document alone (as before shops); several: a list of them."""
        if self._proc is None:
            return None
        payload: object = documents[0] if len(documents) == 1 else documents
        out, err = self._proc.communicate(json.dumps(payload))
        if self._proc.returncode == 0:
            return None
        last = (err or out).strip().splitlines()[-1:] or [f"exit {self._proc.returncode}"]
        return f"synced, but recording into the Dagster home failed: {last[0]}"

    def cancel(self, wait: float = CANCEL_WAIT_S) -> None:
        """Record nothing: close the helper's stdin and wait (bounded) until it has exited."""
        if self._proc is None:
            return
        # Never killed: a kill mid-way through creating the storage would leave it broken.
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.communicate("", timeout=wait)
