"""Runs: settle what earlier runs left open, plan, claim, re-read the orders, then send.

The re-read just before acting is one batched read (`reads`): a created-at window walk and/or
concurrent GETs, whichever costs fewer requests; it happens after every claim is committed.

A run is one shop's (`shop`, default `default`): `client` is that shop's (built from its key),
and every ledger row, jobs row and warehouse order it plans, claims, sends, settles or reports on
is that shop's. Another shop holding the same order id or ledger key is never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from preorders.actions.outcomes import Log, Outcome, RunOutcomes, say
from preorders.actions.plans import plan_charges, release_plan, unplanned
from preorders.actions.reads import OrderReads, read_rows
from preorders.actions.review import waits
from preorders.actions.rules import (
    CHARGE,
    DEFAULT_SETTINGS,
    RELEASE,
    ActionSettings,
    Spec,
    force_reason,
)
from preorders.actions.sending import send_bulk, send_one, settle
from preorders.actions.settling import settle_open_rows
from preorders.progress import Phase, Progress
from stoq import StoqClient, errors
from warehouse import ledger
from warehouse.ledger import Planned
from warehouse.migrate import DEFAULT_SHOP


def release(
    client: StoqClient | None,
    conn: duckdb.DuckDBPyConnection,
    order_ids: Sequence[int] | None = None,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    force: bool = False,
    reason: str | None = None,
    run_id: str | None = None,
    settings: ActionSettings = DEFAULT_SETTINGS,
    log: Log | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    shop: str = DEFAULT_SHOP,
) -> RunOutcomes:
    """Settle `shop`'s open release rows, then release what `plan_release` returns for it; one
    Outcome each. `client` must be `shop`'s.

    A dry run sends nothing (client may be None): it writes `planned` rows with dry_run=true.
    Every releasable order not sent is named with why (a retry in its backoff: until when), and
    the result's `waits` say what open rows and bulk jobs still wait on, until when. `now`
    (default: the clock) is when the run judges holds and retry backoffs. Force without a reason
    (ForceWithoutReason) or a reason without force (ReasonWithoutForce) raises before anything
    is read or written (`rules.force_reason`).
    """
    recorded = force_reason(force, reason)
    return _plan_and_run(
        client, conn, RELEASE, order_ids, dry_run, limit, recorded, run_id, settings, log,
        force=force, now=now, progress=progress, shop=shop,
    )  # fmt: skip


def charge(
    client: StoqClient | None,
    conn: duckdb.DuckDBPyConnection,
    order_ids: Sequence[int] | None = None,
    *,
    offer_id: str | None = None,
    dry_run: bool = True,
    limit: int | None = None,
    run_id: str | None = None,
    settings: ActionSettings = DEFAULT_SETTINGS,
    log: Log | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    shop: str = DEFAULT_SHOP,
) -> RunOutcomes:
    """Settle `shop`'s open charge rows, then charge the balance of each of its planned orders
    (dry run default). `client` must be `shop`'s.

    Charges are never retried automatically: STOQ may settle a charge after answering, so an
    accepted charge not yet applied stays `unknown` (read back each run) for
    `charge_pending_hold`, then `failed`; either way the order is blocked until a payment field
    changes (its charge fingerprint), never by a tag or updated_at change.
    """
    return _plan_and_run(
        client, conn, CHARGE, order_ids, dry_run, limit, None, run_id, settings, log,
        offer_id=offer_id, now=now, progress=progress, shop=shop,
    )  # fmt: skip


def _plan_and_run(
    client: StoqClient | None,
    conn: duckdb.DuckDBPyConnection,
    spec: Spec,
    order_ids: Sequence[int] | None,
    dry_run: bool,
    limit: int | None,
    force_reason: str | None,
    run_id: str | None,
    settings: ActionSettings,
    log: Log | None,
    *,
    force: bool = False,
    offer_id: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    shop: str = DEFAULT_SHOP,
) -> RunOutcomes:
    dry_run = dry_run or client is None
    done: list[Outcome] = []
    if client is not None and not dry_run:
        done = settle_open_rows(client, conn, spec.action, settings, log=log, now=now, shop=shop)
    waiting: list[Outcome] = []
    if spec is RELEASE:
        full, waiting = release_plan(
            conn, order_ids, force=force, settings=settings, now=now, shop=shop
        )
    else:
        full = plan_charges(conn, None, order_ids, offer_id=offer_id, shop=shop)
    plan = full[:limit] if limit else full
    skips = unplanned(conn, spec.action, order_ids, full, plan, force, named=waiting, shop=shop)
    if not order_ids:  # an order settled above already has its line in this run
        skips = [o for o in skips if o.order_id not in {d.order_id for d in done}]
    done += skips
    done += _run(
        client, conn, spec, plan, dry_run, force_reason, run_id, settings, log, progress, shop
    )
    # What still waits once the run ended: its summary says so instead of "nothing to do".
    waiting_on = waits(conn, spec.action, settings, now, shop=shop)
    for line in waiting_on:
        say(log, f"waiting: {line}")
    return RunOutcomes(done, waiting_on)


def _run(
    client: StoqClient | None,
    conn: duckdb.DuckDBPyConnection,
    spec: Spec,
    plan: Sequence[Planned],
    dry_run: bool,
    force_reason: str | None,
    run_id: str | None,
    settings: ActionSettings,
    log: Log | None,
    progress: Progress | None = None,
    shop: str = DEFAULT_SHOP,
) -> list[Outcome]:
    out: list[Outcome] = []
    ready: list[Planned] = []
    for item in plan:
        key = ledger.claim(
            conn, item, force_reason=force_reason, dry_run=dry_run, run_id=run_id, shop=shop
        )
        if dry_run:
            out.append(Outcome(item.order_id, spec.action, "planned", "", item.forced, True))
        elif key is None:
            out.append(Outcome(item.order_id, spec.action, "skipped", "another run is handling it"))
        else:
            ready.append(item)
    if client is not None and ready:  # a dry run has no client and readies nothing
        reads = _pre_read(client, conn, ready, log, shop)
        live: list[Planned] = []
        for item in ready:
            skipped = _pre_check(conn, spec, item, reads, shop)
            if skipped is None:
                live.append(item)
            else:
                out.append(skipped)
        if live:
            out += _send(client, conn, spec, live, run_id, settings, log, progress, shop)
    for outcome in out:
        say(log, outcome.line())
    return out


def _send(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    spec: Spec,
    live: Sequence[Planned],
    run_id: str | None,
    settings: ActionSettings,
    log: Log | None,
    progress: Progress | None,
    shop: str,
) -> list[Outcome]:
    """Send, as a phase of its own: one POST an order at the budget's pace, or one bulk job."""
    name = "release" if spec is RELEASE else "charge"
    with Phase(progress, name, noun="orders", client=client) as phase:
        phase.summary = f"{len(live)} orders"
        if spec is RELEASE and len(live) >= max(1, settings.bulk_threshold):
            return send_bulk(client, conn, live, run_id, settings, log, phase.progress, shop=shop)
        out: list[Outcome] = []
        for done, item in enumerate(live, 1):
            out.append(send_one(client, conn, spec, item, settings, shop=shop))
            phase.step(done, len(live), unit="orders")
        return out


def _pre_read(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    ready: Sequence[Planned],
    log: Log | None,
    shop: str,
) -> OrderReads:
    """Read every claimed order again, in one batch, just before acting on any of them."""
    try:
        reads = read_rows(client, conn, ready, shop=shop)
    except errors.Unauthorized:
        for item in ready:  # nothing was sent: the next run may try the same keys
            ledger.unclaim(conn, item.key, shop=shop)
        raise
    say(log, f"re-read {len(ready)} orders: {reads.pages} list pages, {reads.gets} GETs")
    return reads


def _pre_check(
    conn: duckdb.DuckDBPyConnection, spec: Spec, item: Planned, reads: OrderReads, shop: str
) -> Outcome | None:
    """An Outcome when the order as re-read must be skipped (row settled or given back)."""
    failure = reads.failed.get(item.order_id)
    if failure is not None:
        ledger.unclaim(conn, item.key, shop=shop)  # nothing was sent: the next run may try again
        note = f"not sent: the order could not be read ({type(failure).__name__}); retried next run"
        return Outcome(item.order_id, spec.action, "not_sent", note, item.forced)
    order = reads.get(item.order_id)
    if order is None:
        return settle(conn, item, spec.action, "skipped", note="order not found (404)", shop=shop)
    blocker = spec.check(order, item.forced)
    if blocker is not None:
        return settle(conn, item, spec.action, "skipped", note=blocker, shop=shop)
    return None
