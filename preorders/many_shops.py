"""Sync many shops at once: each shop's walks in threads of their own, the merges one at a time.

    results = sync_shops(load_shops(), WarehouseSettings.from_env().connect)
    for result in results:                  # one ShopSync per shop, in the shops' order
        ...result.offers, result.orders, result.errors

Each shop has its own key and so its own rate budget: its walks are bound by that budget and the
API's latency, not by the others, so N shops take about as long as the slowest one. The warehouse
is reached through an Opener: each sync opens the file only for its start reads and its merge
(warehouse.connect.Access), and those windows take turns within this process as DuckDB's file
lock makes them take turns with other processes. One shop's failure (a rejected key, an
unreachable API) is that shop's result; the others complete.
"""

from __future__ import annotations

import contextvars
import dataclasses
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

from preorders.progress import Event, Progress
from preorders.scrubbing import Redact, scrub_exception, scrubbed
from preorders.sync import SyncSettings, sync_offers, sync_orders
from preorders.sync_report import SyncReport

if TYPE_CHECKING:
    from preorders.shops import Shop
    from stoq import StoqClient
    from warehouse.connect import Connectable

STREAMS = ("offers", "orders")


@dataclass
class ShopSync:
    """One shop's sync: a SyncReport per stream that finished, the exception of each that failed."""

    shop: str
    offers: SyncReport | None = None
    orders: SyncReport | None = None
    errors: dict[str, Exception] = field(default_factory=dict)  # stream -> why it failed

    @property
    def reports(self) -> list[SyncReport]:
        """The streams' reports that finished, offers first."""
        return [r for r in (self.offers, self.orders) if r is not None]

    @property
    def ok(self) -> bool:
        """True when every stream finished (it may still be incomplete: see its report)."""
        return not self.errors


def sync_shops(
    shops: list[Shop],
    opener: Connectable,
    *,
    mode: str = "auto",
    run_id: str | None = None,
    progress: Progress | None = None,
    client_options: Mapping[str, Any] | None = None,
    settings: SyncSettings | None = None,
) -> list[ShopSync]:
    """Sync every shop (both streams, `sync_streams`) into one warehouse; a ShopSync per shop.

    `opener`: a zero-argument callable returning a connection context (warehouse.connect.Opener);
    each shop runs in its own thread with its own client (`shop.client(**client_options)`). Given
    a connection instead, the shops run one after another on it. One `run_id` (a new UUID when
    None) for all: sync_runs rows are keyed by shop too. With several shops, progress events
    name the shop in their phase (`eu: orders (full)`).
    """
    run_id = run_id or str(uuid.uuid4())
    options = dict(client_options or {})
    several = len(shops) > 1
    one_at_a_time = isinstance(opener, duckdb.DuckDBPyConnection)  # a connection is not shared

    def one(shop: Shop) -> ShopSync:
        told = _named(progress, shop.name) if several else progress
        return sync_shop(shop, opener, mode=mode, run_id=run_id, progress=told,
                         client_options=options, settings=settings)  # fmt: skip

    if not shops:
        return []
    workers = 1 if one_at_a_time else len(shops)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync-shop") as pool:
        return list(pool.map(one, shops))


def sync_shop(
    shop: Shop,
    opener: Connectable,
    *,
    mode: str = "auto",
    run_id: str,
    progress: Progress | None = None,
    client_options: Mapping[str, Any] | None = None,
    settings: SyncSettings | None = None,
) -> ShopSync:
    """One shop's offers and orders (`sync_streams`) with its own client; every failure kept,
    never raised. The shop's key is redacted from every failure's text and from sync_runs."""
    try:
        key = shop.api_key()
        client = shop.client(**dict(client_options or {}))
    except Exception as exc:  # no key, a bad setting: neither stream can run
        return ShopSync(shop.name, errors={stream: exc for stream in STREAMS})
    with client, scrubbed(key) as redact:
        return sync_streams(
            client, opener, shop=shop.name, mode=mode, run_id=run_id, progress=progress,
            settings=settings, redact=redact,
        )  # fmt: skip


def sync_streams(
    client: StoqClient,
    warehouse: Connectable,
    *,
    shop: str,
    mode: str = "auto",
    run_id: str,
    progress: Progress | None = None,
    settings: SyncSettings | None = None,
    redact: Redact = str,
) -> ShopSync:
    """A shop's offers and orders with `client`; each stream's failure kept, never raised, its
    text (and its causes') passed through `redact` (e.g. `scrubbed(key)`'s).

    Given an opener the two streams walk at once: offers on a sibling client (the key's one
    rate budget, counters of its own, so each report counts its own requests), orders here;
    while latency binds, the offers walk then adds no time of its own. Given a connection, one
    after the other on it. A stop (KeyboardInterrupt, SystemExit) in either is raised.
    """
    found: dict[str, SyncReport | BaseException] = {}

    def run(stream: str, who: StoqClient) -> None:
        try:
            if stream == "offers":
                found[stream] = sync_offers(
                    who, warehouse, run_id=run_id, progress=progress, shop=shop
                )
            else:
                found[stream] = sync_orders(
                    who, warehouse, run_id=run_id, mode=mode, settings=settings or SyncSettings(),
                    progress=progress, shop=shop,
                )  # fmt: skip
        except Exception as exc:  # this stream's failure; the other stream still runs
            found[stream] = exc

    def aside(stream: str, who: StoqClient) -> None:
        try:
            run(stream, who)
        except BaseException as exc:  # a stop in this thread: raised by the caller below
            found[stream] = exc

    if isinstance(warehouse, duckdb.DuckDBPyConnection):  # a connection is not shared
        for stream in STREAMS:
            run(stream, client)
    else:
        with client.sibling() as twin:
            # The caller's context (its redaction of sync_runs messages) goes along. A daemon:
            # a stop raised here (the CLI's SIGTERM) does not wait for it; the process ends
            # with it, the next load clears its stage, and what it had not committed is lost.
            side = threading.Thread(
                target=contextvars.copy_context().run, args=(aside, "offers", twin),
                name=f"sync-offers-{shop}", daemon=True,
            )  # fmt: skip
            side.start()
            run("orders", client)
            side.join()
    result = ShopSync(shop)
    for stream in STREAMS:  # in stream order, whichever ended first: the first failure leads
        outcome = found[stream]
        if not isinstance(outcome, Exception | SyncReport):
            raise outcome  # a stop, not a failure: the caller's to handle
        if isinstance(outcome, Exception):
            scrub_exception(outcome, redact)
            result.errors[stream] = outcome
        else:
            setattr(result, stream, outcome)
    return result


def _named(progress: Progress | None, shop: str) -> Progress | None:
    """`progress` with the shop's name before each event's phase."""
    if progress is None:
        return None
    target = progress

    def relay(event: Event) -> None:
        target(dataclasses.replace(event, phase=f"{shop}: {event.phase}"))

    return relay
