"""What the warehouse says now: last sync per stream, releasable orders, open ledger rows, jobs.

    status = read_status(conn, shop="eu")   # reads only; no key, no request; one shop's facts
    if not status.synced:
        ...                                 # never_synced(path, why): the one message for it
    print("\n".join(as_lines(status)))      # or json.dumps(as_dict(status))
    print("\n".join(shops_lines(statuses))) # several shops: a section each (shops_dict: JSON)

"Releasable now" is what `preorders release` would send: the `releasable_orders` view minus
every order the ledger holds (an open row, a release already sent for this version of the
order) and minus retries still in their backoff, computed by `preorders.actions` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from preorders.actions.plans import OPEN, release_plan
from warehouse import jobs
from warehouse import status as queries
from warehouse.migrate import DEFAULT_SHOP

STREAMS = ("offers", "orders")
LABEL = 12  # width of the first column of `as_lines`


def never_synced(path: str, why: str = "no sync has run", shop: str = DEFAULT_SHOP) -> str:
    """The message for a warehouse with nothing to report on, naming its file (and the shop,
    unless it is the one `default` shop)."""
    if shop == DEFAULT_SHOP:
        return f"the warehouse {path} was never synced ({why}); run `preorders sync` first"
    return (
        f"the warehouse {path} was never synced for shop {shop!r} ({why}); "
        f"run `preorders sync --shop {shop}` first"
    )


class NeverSynced(ValueError):
    """Raised by `require_synced` for a warehouse whose needed streams never synced."""


def require_synced(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    streams: tuple[str, ...] = STREAMS,
    *,
    shop: str = DEFAULT_SHOP,
) -> None:
    """NeverSynced unless every stream in `streams` of `shop` has synced successfully at least
    once, so that "nothing to do" or an empty report never stands for "nothing was ever read"."""
    done = {s["stream"] for s in queries.streams(conn, shop) if s["last_success_at"] is not None}
    missing = [s for s in streams if s not in done]
    if missing:
        why = f"no successful sync of {', '.join(missing)}"
        raise NeverSynced(never_synced(path, why, shop))


@dataclass(frozen=True)
class StreamSync:
    """One stream's last sync run, its cursor and the rows its table holds now."""

    stream: str
    rows: int
    run_id: str | None = None
    mode: str | None = None  # full | incremental
    outcome: str | None = None  # succeeded | failed
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str | None = None
    last_success_at: datetime | None = None
    high_water_mark: datetime | None = None  # newest created_at loaded (orders)
    api_total_count: int | None = None  # meta.total_count of the last walk


@dataclass(frozen=True)
class Releasable:
    """The releasable_orders view, and how many of its orders a release would send now."""

    in_view: int
    now: int
    waiting: int  # retries still in their backoff, or refused by STOQ before

    @property
    def in_ledger(self) -> int:
        """Orders of the view the ledger holds: an open row, or released for this version."""
        return max(0, self.in_view - self.now - self.waiting)


@dataclass(frozen=True)
class OpenRows:
    """Real ledger rows of one action still open with one status."""

    action: str
    status: str  # planned | sent | unknown
    rows: int
    oldest: datetime | None  # the oldest row's sent_at (planned_at when never sent)


@dataclass(frozen=True)
class JobInFlight:
    """A STOQ job never seen in a terminal state, as last polled."""

    job_id: str
    kind: str
    items: int | None
    submitted_at: datetime | None
    last_status: str | None
    last_progress: float | None
    last_polled_at: datetime | None
    error: str | None


@dataclass(frozen=True)
class Status:
    """Everything `preorders status` reports, read at `at`."""

    warehouse: str | None  # the DuckDB file (None: in memory)
    at: datetime
    streams: tuple[StreamSync, ...]
    releasable: Releasable
    ledger_open: tuple[OpenRows, ...]
    jobs: tuple[JobInFlight, ...]
    shop: str = DEFAULT_SHOP

    @property
    def synced(self) -> bool:
        """Whether any sync run was ever recorded (failed ones count: they are worth showing)."""
        return any(s.finished_at is not None for s in self.streams)

    def open_by_status(self) -> dict[str, int]:
        """Open ledger rows per status, every open status present (0 when none)."""
        counts = dict.fromkeys(sorted(OPEN), 0)
        for group in self.ledger_open:
            counts[group.status] = counts.get(group.status, 0) + group.rows
        return counts


def read_status(
    conn: duckdb.DuckDBPyConnection, now: datetime | None = None, *, shop: str = DEFAULT_SHOP
) -> Status:
    """Read `shop`'s status from the warehouse alone (no writes but the plan's temporary frame)."""
    now = now or datetime.now(UTC)
    streams = tuple(
        StreamSync(
            stream=row["stream"],
            rows=int(row["table_rows"]),
            run_id=row["run_id"],
            mode=row["mode"],
            outcome=row["outcome"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            message=row["message"],
            last_success_at=row["last_success_at"],
            high_water_mark=row["high_water_mark"],
            api_total_count=row["last_total_count"],
        )
        for row in queries.streams(conn, shop)
    )
    todo, waiting = release_plan(conn, now=now, shop=shop)
    releasable = Releasable(queries.releasable_count(conn, shop), len(todo), len(waiting))
    ledger_open = tuple(OpenRows(*group) for group in queries.open_ledger_rows(conn, OPEN, shop))
    in_flight = tuple(
        JobInFlight(
            job_id=str(job["job_id"]),
            kind=str(job["kind"]),
            items=job["item_count"],
            submitted_at=job["submitted_at"],
            last_status=job["last_status"],
            last_progress=job["last_progress"],
            last_polled_at=job["last_polled_at"],
            error=job["error"],
        )
        for job in jobs.open_jobs(conn, shop=shop)
    )
    path = queries.database_path(conn)
    return Status(path, now, streams, releasable, ledger_open, in_flight, shop)


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
