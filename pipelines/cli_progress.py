"""Live progress on a terminal, drawn by rich: a bar per running phase, erased when it ends.

Loaded only once a command on a terminal reports its first event (`cli_support.progress_display`):
rich costs ~50 ms to import, which the short commands never pay.
"""

from __future__ import annotations

import threading

from rich.console import Console
from rich.progress import BarColumn, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bars

from preorders.progress import Event, JobPolled, PhaseEnded, PhaseStarted, Step
from preorders.progress_lines import detail, job_figures, step_figures


class LiveBars:
    """A Progress drawing a bar per running phase: done of total, its figures, the latest wait."""

    def __init__(self, console: Console, *, redirect_stdout: bool = False) -> None:
        self._bars = Bars(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.fields[figures]}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=True,  # the command's own lines say what was done; bars only while working
            # Lines printed to a terminal stdout go above the bars; a piped stdout stays as is.
            redirect_stdout=redirect_stdout,
            redirect_stderr=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()  # the client's waits arrive from its worker threads

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, PhaseStarted):
                if not self._tasks:
                    self._bars.start()
                self._tasks[event.phase] = self._bars.add_task(event.phase, total=None, figures="")
                return
            task = self._tasks.get(event.phase)
            if task is None:
                return
            if isinstance(event, PhaseEnded):
                self._bars.remove_task(self._tasks.pop(event.phase))
                if not self._tasks:
                    self._bars.stop()
            elif isinstance(event, Step):
                figures = step_figures(event)
                self._bars.update(task, completed=event.done, total=event.total, figures=figures)
            elif isinstance(event, JobPolled):
                percent = event.percent if isinstance(event.percent, int | float) else None
                total = None if percent is None else 100
                self._bars.update(
                    task, completed=percent or 0, total=total, figures=job_figures(event)
                )
            elif (note := detail(event)) is not None:  # a retry or a long rate-limit hold
                self._bars.update(task, figures=note)

    def close(self) -> None:
        """Stop drawing (the bars are erased); safe to call twice, and after an error or a stop."""
        with self._lock:
            self._tasks.clear()
            self._bars.stop()
