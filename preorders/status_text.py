"""A `preorders.status.Status` as text: aligned plain lines, or one JSON-ready object.

print("\n".join(as_lines(status)))      # or json.dumps(as_dict(status))
print("\n".join(shops_lines(statuses))) # several shops: a section each (shops_dict: JSON)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from preorders.status import JobInFlight, OpenRows, Releasable, Status, StreamSync, never_synced

LABEL = 12  # width of the first column of `as_lines`


# -- plain text --------------------------------------------------------------------------------


def as_lines(status: Status) -> list[str]:
    """A few aligned lines: the file, one per stream, releasable, open ledger rows, jobs."""
    where = status.warehouse or "(in memory)"
    if not status.synced:
        return [_line("warehouse", never_synced(where))]
    lines = [_line("warehouse", where)]
    lines += [_line(s.stream, _stream_text(s, status.at)) for s in status.streams]
    lines.append(_line("releasable", _releasable_text(status.releasable)))
    lines.append(_line("ledger", _ledger_text(status.ledger_open, status.at)))
    lines.append(_line("jobs", f"{len(status.jobs)} in flight"))
    lines += [_line("", _job_text(job, status.at)) for job in status.jobs]
    return lines


def shops_lines(statuses: list[Status]) -> list[str]:
    """The warehouse line, then a section per shop: its name, then its lines (indented)."""
    where = statuses[0].warehouse if statuses else None
    lines = [_line("warehouse", where or "(in memory)")]
    for status in statuses:
        lines.append(_line("shop", status.shop))
        own = as_lines(status)[1:] if status.synced else ["never synced"]
        lines += ["  " + line for line in own]
    return lines


def _line(label: str, text: str) -> str:
    return f"{label:<{LABEL}}{text}".rstrip()


def _releasable_text(r: Releasable) -> str:
    held = [f"{r.in_ledger} held by the ledger"] if r.in_ledger else []
    held += [f"{r.waiting} retries waiting"] if r.waiting else []
    return f"{r.now} now" + (f" ({', '.join(held)})" if held else "")


def _ledger_text(groups: tuple[OpenRows, ...], now: datetime) -> str:
    parts = [
        f"{g.action} {g.status} {g.rows}" + (f" (oldest {_ago(g.oldest, now)})" if g.oldest else "")
        for g in groups
    ]
    return f"{sum(g.rows for g in groups)} open" + (": " + "; ".join(parts) if parts else "")


def _stream_text(s: StreamSync, now: datetime) -> str:
    if s.finished_at is None:
        return f"never synced; {s.rows:,} rows"
    parts = [f"{s.mode} sync {s.outcome} {_ago(s.finished_at, now)}"]
    if s.outcome != "succeeded":
        if s.message:
            parts[0] += f": {_first_line(s.message)}"
        last = s.last_success_at
        parts.append(f"last success {_ago(last, now)}" if last else "never succeeded")
    if s.high_water_mark is not None:
        parts.append(f"high-water mark {_utc(s.high_water_mark):%Y-%m-%d %H:%M} UTC")
    parts.append(f"{s.rows:,} rows")
    return "; ".join(parts)


def _job_text(job: JobInFlight, now: datetime) -> str:
    text = f"{job.kind} {job.job_id}: {job.last_status or 'not polled yet'}"
    if job.last_progress is not None:
        text += f" {job.last_progress:g}%"
    if job.items is not None:
        text += f", {job.items} items"
    if job.last_polled_at is not None:
        text += f", polled {_ago(job.last_polled_at, now)}"
    elif job.submitted_at is not None:
        text += f", submitted {_ago(job.submitted_at, now)}"
    if job.error:
        text += f" ({_first_line(job.error)})"
    return text


def _ago(when: datetime, now: datetime) -> str:
    seconds = max(0, int((now - _utc(when)).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min ago"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h ago"


def _utc(when: datetime) -> datetime:
    """An aware time in UTC (a naive one is taken as UTC already)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _first_line(text: str, width: int = 120) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


# -- JSON --------------------------------------------------------------------------------------


def as_dict(status: Status) -> dict[str, Any]:
    """The same facts as one JSON-ready object (times as ISO 8601 in UTC, ages in seconds)."""
    return {
        "warehouse": status.warehouse,
        "at": _iso(status.at),
        "synced": status.synced,
        "streams": {s.stream: _stream_dict(s, status.at) for s in status.streams},
        "releasable": {
            "now": status.releasable.now,
            "in_view": status.releasable.in_view,
            "in_ledger": status.releasable.in_ledger,
            "retries_waiting": status.releasable.waiting,
        },
        "ledger_open": status.open_by_status(),
        "ledger_open_rows": [
            {"action": g.action, "status": g.status, "rows": g.rows, "oldest": _iso(g.oldest)}
            for g in status.ledger_open
        ],
        "jobs_in_flight": [
            {
                "job_id": j.job_id,
                "kind": j.kind,
                "items": j.items,
                "last_status": j.last_status,
                "last_progress": j.last_progress,
                "submitted_at": _iso(j.submitted_at),
                "last_polled_at": _iso(j.last_polled_at),
                "error": j.error,
            }
            for j in status.jobs
        ],
    }


def shops_dict(statuses: list[Status]) -> dict[str, Any]:
    """Several shops' facts: the file, when, whether any shop synced, and `shops` by name."""
    first = statuses[0] if statuses else None
    drop = ("warehouse", "at")
    return {
        "warehouse": first.warehouse if first else None,
        "at": _iso(first.at) if first else None,
        "synced": any(s.synced for s in statuses),
        "shops": {s.shop: {k: v for k, v in as_dict(s).items() if k not in drop} for s in statuses},
    }


def _stream_dict(s: StreamSync, now: datetime) -> dict[str, Any]:
    age = None if s.finished_at is None else (now - _utc(s.finished_at)).total_seconds()
    return {
        "mode": s.mode,
        "outcome": s.outcome,
        "run_id": s.run_id,
        "started_at": _iso(s.started_at),
        "finished_at": _iso(s.finished_at),
        "age_s": None if age is None else round(max(0.0, age), 1),
        "message": s.message,
        "last_success_at": _iso(s.last_success_at),
        "high_water_mark": _iso(s.high_water_mark),
        "api_total_count": s.api_total_count,
        "rows": s.rows,
    }


def _iso(when: datetime | None) -> str | None:
    return None if when is None else _utc(when).isoformat()
