"""Async jobs (SPEC §4): one step per poll, per-item failures swallowed, expiry after a TTL."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ApiError

TERMINAL = ("completed", "ready", "failed", "cancelled")


@dataclass
class Job:
    """One job: its items are applied a slice per poll."""

    id: str
    status_path: str
    items: list[Any]
    apply: Callable[[Any], None]
    done_status: str = "completed"
    on_done: Callable[[Job], dict[str, Any]] | None = None
    status: str = "running"
    processed: int = 0
    failures: int = 0
    steps_done: int = 0
    hidden_polls: int = 0
    finished_at: float | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Item count."""
        return len(self.items)

    @property
    def terminal(self) -> bool:
        """Whether the job has stopped for good."""
        return self.status in TERMINAL

    def render(self) -> dict[str, Any]:
        """The polling payload (§4.2/§4.3)."""
        if self.total:
            progress = math.floor(100 * self.processed / self.total)
        else:
            progress = 100 if self.terminal else 0
        if self.status in ("completed", "ready"):
            progress = 100
        out: dict[str, Any] = {
            "job_id": self.id,
            "status": self.status,
            "progress": progress,
            "total": self.total,
            "processed": self.processed,
        }
        if self.status == "failed":
            out["error"] = self.error or "Job failed"
        out.update(self.extra)
        return out


class JobStore:
    """Jobs by id, advanced by polls, with terminal jobs expiring `ttl` seconds later."""

    def __init__(self, steps: int, ttl: float) -> None:
        self.steps = steps
        self.ttl = ttl
        self.jobs: dict[str, Job] = {}

    def submit(self, job: Job, now: float) -> Job:
        """Store the job; with zero steps it completes at once."""
        self.jobs[job.id] = job
        if self.steps <= 0:
            self._advance(job, now, finish=True)
        return job

    def _advance(self, job: Job, now: float, finish: bool = False) -> None:
        job.steps_done += 1
        done = finish or job.steps_done >= self.steps
        target = job.total if done else math.ceil(job.total * job.steps_done / self.steps)
        while job.processed < target:
            try:
                job.apply(job.items[job.processed])
            except ApiError:
                job.failures += 1  # Per-item failures are swallowed (SPEC §3.5).
            job.processed += 1
        if done:
            job.status = job.done_status
            job.finished_at = now
            if job.on_done is not None:
                job.extra.update(job.on_done(job))

    def get(self, job_id: str, now: float) -> Job | None:
        """The job, or None when unknown or expired."""
        job = self.jobs.get(job_id)
        if job is None:
            return None
        if job.finished_at is not None and now >= job.finished_at + self.ttl:
            del self.jobs[job_id]
            return None
        return job

    def poll(self, job_id: str, now: float) -> Job:
        """Advance a running job one step and return it; 404 when unknown or expired."""
        job = self.get(job_id, now)
        if job is None:
            raise ApiError(404, "Job not found")
        if not job.terminal:
            self._advance(job, now)
        return job

    def force(self, job_id: str, status: str, now: float, error: str | None = None) -> Job:
        """Operator hook: move a job to `status` (e.g. failed/cancelled) now."""
        job = self.jobs.get(job_id)
        if job is None:
            raise KeyError(job_id)
        job.status = status
        job.error = error
        job.finished_at = now if status in TERMINAL else None
        return job
