"""What the warehouse says now: last sync per stream, releasable orders, open ledger rows, jobs.

    status = read_status(conn, shop="eu")   # reads only; no key, no request; one shop's facts
    if not status.synced:
        ...                                 # never_synced(path, why): the one message for it
    print("\n".join(as_lines(status)))      # preorders.status_text: as_lines, as_dict (JSON),
                                            # shops_lines / shops_dict (a section per shop)

"Releasable now" is what `preorders release` would send: the `releasable_orders` view minus
every order the ledger holds (an open row, a release already sent for this version of the
order) and minus retries still in their backoff, computed by `preorders.actions` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from preorders.actions.plans import OPEN, release_plan
from warehouse import jobs
from warehouse import status as queries
from warehouse.migrate import DEFAULT_SHOP

STREAMS = ("offers", "orders")


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
