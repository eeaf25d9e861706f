"""StoqClient: one method per STOQ Preorders v2 task (SPEC §§2-6)."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import random
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from stoq import _params as p
from stoq import errors
from stoq.auth import checked_base_url
from stoq.http import Session
from stoq.inflight import Inflight
from stoq.jobs import JobHandle, JobStatus, job_id_from_url, poll, read_status
from stoq.pagination import Walk
from stoq.ratelimit import RateBudget, Room
from stoq.retry import RetryPolicy
from stoq.stats import StatsRecorder
from stoq.waits import OnWait

DEFAULT_BASE_URL = "https://app.stoqapp.com/api/v2/external"

When = str | dt.datetime | dt.date | None


class StoqClient:
    """A thread-safe client for one shop's key; use it as a context manager."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 6,
        points_per_window: int = 360,
        window_seconds: float = 60.0,
        concurrency: int = 4,
        max_concurrency: int = 16,
        per_page: int = 100,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        max_retry_wait: float | None = None,
        deadline: float = 120.0,
        max_body_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("api_key must be a non-empty STOQ API key (X-Auth-Token)")
        self.base_url = checked_base_url(base_url, transport)  # https, or http to loopback only
        self.concurrency = max(1, concurrency)
        self.max_concurrency = max(self.concurrency, max_concurrency)  # see stoq/inflight.py
        self.per_page = per_page
        self.stats = StatsRecorder()
        self.clock = clock  # monotonic seconds: the pace of work (and a fake one in tests)
        self._sleep = sleep
        self._budget = RateBudget(
            points_per_window, window_seconds, clock=clock, sleep=sleep, wall_clock=wall_clock
        )
        key = api_key.strip()
        policy = RetryPolicy(max_retries=max_retries, rng=rng or random.Random())
        # A longer Retry-After raises RateLimited instead of stalling every thread.
        longest = max(window_seconds, 120.0) if max_retry_wait is None else max_retry_wait

        def session(stats: StatsRecorder) -> Session:  # a closure: the key stays out of reprs
            return Session(
                api_key=key, base_url=self.base_url, transport=transport, timeout=timeout,
                policy=policy, budget=self._budget, stats=stats, sleep=sleep,
                wall_clock=wall_clock, max_connections=max(10, self.max_concurrency * 2),
                max_retry_wait=longest, deadline=deadline, max_body_bytes=max_body_bytes,
            )  # fmt: skip

        self._new_session = session
        self._session = session(self.stats)

    def __enter__(self) -> StoqClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._session.close()

    def __repr__(self) -> str:
        return f"StoqClient(base_url={self.base_url!r})"

    def sibling(self) -> StoqClient:
        """A client for the same key that spends from this one's rate budget, with counters,
        a listener and connections of its own: two walks at once each report their own
        requests, and together never spend more than the key allows. An injected `transport`
        is shared (closing either client closes it): close the sibling first, when done."""
        twin = copy.copy(self)
        twin.stats = StatsRecorder()
        twin._session = self._new_session(twin.stats)
        return twin

    @property
    def rate_limit_headers(self) -> dict[str, str]:
        """The X-RateLimit-* headers on the last answer (a copy; {} when it sent none)."""
        return self._budget.last_headers

    def rate_room(self) -> Room:
        """Points per window and points left now (for an ETA: what the budget still lets go)."""
        return self._budget.room()

    def listen(self, on_wait: OnWait | None) -> OnWait | None:
        """Tell `on_wait` of each retry backoff and rate-limit hold as it starts; return the old."""
        previous, self._session.on_wait = self._session.on_wait, on_wait
        return previous

    # -- discovery ---------------------------------------------------------------------------

    def help(self, prefix: str | None = None) -> dict[str, Any]:
        """The live action manifest, optionally narrowed to a path prefix."""
        return self._get("/help", p.query({"prefix": prefix}))

    # -- offers ------------------------------------------------------------------------------

    def list_offers(self, status: str | None = None, per_page: int | None = None) -> Walk:
        """Every offer (newest first), optionally filtered by status."""
        return self._walk(p.OFFERS, {"status": status}, per_page)

    def get_offer(self, id: str) -> dict[str, Any]:
        """One offer, including its capabilities block."""
        return p.offer(self._get(f"/preorders/offers/{p.segment(id, 'offer id')}"))

    def enable_offer(self, id: str) -> dict[str, Any]:
        """Enable an offer; returns the updated offer."""
        return p.offer(self._post(f"/preorders/offers/{p.segment(id, 'offer id')}/enable"))

    def disable_offer(self, id: str) -> dict[str, Any]:
        """Disable an offer; returns the updated offer."""
        return p.offer(self._post(f"/preorders/offers/{p.segment(id, 'offer id')}/disable"))

    def add_variants(self, id: str, variant_ids: Iterable[int | str]) -> dict[str, Any]:
        """Attach Shopify variants to an offer; returns the updated offer."""
        return self._variants(id, "add_variants", variant_ids)

    def remove_variants(self, id: str, variant_ids: Iterable[int | str]) -> dict[str, Any]:
        """Detach Shopify variants from an offer; returns the updated offer."""
        return self._variants(id, "remove_variants", variant_ids)

    def _variants(self, id: str, action: str, variant_ids: Iterable[int | str]) -> dict[str, Any]:
        path = f"/preorders/offers/{p.segment(id, 'offer id')}/products/{action}"
        body = {"variant_ids": p.int_ids(variant_ids, "variant id")}
        return p.offer(self._post(path, body))

    # -- orders ------------------------------------------------------------------------------

    def list_orders(
        self,
        state: str | None = None,
        offer_id: str | None = None,
        variant_id: int | None = None,
        customer_id: int | None = None,
        from_: When = None,
        to: When = None,
        per_page: int | None = None,
    ) -> Walk:
        """Orders, optionally filtered; `state` is a post-fetch filter (pages may be short)."""
        params = {
            "state": state,
            "offer_id": offer_id,
            "variant_id": variant_id,
            "customer_id": customer_id,
            "from": from_,
            "to": to,
        }
        return self._walk(p.ORDERS, params, per_page)

    def get_order(self, id: int) -> dict[str, Any]:
        """One order by Shopify order id."""
        return p.order(self._get(self._order_path(id)))

    def release_order(self, id: int, force: bool = False) -> dict[str, Any]:
        """Lift fulfillment holds; `force` skips the balance check (409 otherwise)."""
        # Only send force when asked: an explicit false is not what the docs show.
        body = {"force": True} if force else None
        return self._order_write(id, "release", body)

    def charge_balance(self, id: int) -> dict[str, Any]:
        """Charge the outstanding balance; never retried after a lost response."""
        return self._order_write(id, "payments/charge_balance")

    def _order_write(self, id: int, action: str, body: Any = None) -> dict[str, Any]:
        """POST an order action; a 2xx without the order is read back once (errors: not at all)."""
        posted = self._post(f"{self._order_path(id)}/{action}", body)
        answer = p.order(posted)
        if "state" not in answer:
            with contextlib.suppress(errors.StoqError):
                answer = self.get_order(id)
        return p.Written(answer, status=posted.status)

    def bulk_release(self, order_ids: Iterable[int | str], force: bool = False) -> JobHandle:
        """Release many orders as one async job."""
        body = {"order_ids": p.int_ids(order_ids, "order id"), "force": bool(force)}
        return JobHandle.parse(self._post("/preorders/orders/bulk_release", body))

    def _order_path(self, id: int | str) -> str:
        return f"/preorders/orders/{p.int_id(id, 'order id')}"

    # -- product variants --------------------------------------------------------------------

    def list_product_variants(
        self,
        offer_id: str | None = None,
        product_id: int | None = None,
        variant_ids: Iterable[int | str] | None = None,
        per_page: int | None = None,
    ) -> Walk:
        """Variants attached to any offer."""
        ids = None if variant_ids is None else p.int_ids(variant_ids, "id")  # -> variant_ids[]
        params = {"offer_id": offer_id, "product_id": product_id, "variant_ids": ids}
        return self._walk(p.VARIANTS, params, per_page)

    def get_product_variant(self, id: int) -> dict[str, Any]:
        """One variant's preorder context, by Shopify variant id."""
        return p.variant(self._get(f"/preorders/product_variants/{p.int_id(id, 'variant id')}"))

    def bulk_variant_action(
        self, name: str, variant_ids: Iterable[int | str] | None = None
    ) -> JobHandle:
        """Run a bulk variant job (e.g. `bulk_recalculate_preorder_counts`)."""
        body = None if variant_ids is None else {"variant_ids": p.int_ids(variant_ids, "id")}
        path = f"/preorders/product_variants/{p.segment(name, 'action name')}"
        return JobHandle.parse(self._post(path, body))

    # -- reports -----------------------------------------------------------------------------

    def list_reports(self) -> list[dict[str, Any]]:
        """The report catalog."""
        return p.reports(self._get("/preorders/reports"))

    def get_report(self, name: str, **params: Any) -> dict[str, Any]:
        """A report's JSON; `from_`/`to` take dates, list values go out as `key[]`."""
        return self._get(f"/preorders/reports/{p.segment(name, 'report name')}", p.query(params))

    def start_export(self, name: str, **params: Any) -> JobHandle:
        """Start a CSV export of a report; poll the handle for the download URL."""
        path = f"/preorders/reports/{p.segment(name, 'report name')}/export"
        body = p.body(params) or None
        return JobHandle.parse(self._post(path, body))

    # -- jobs --------------------------------------------------------------------------------

    def job_status(self, job: JobHandle | str) -> JobStatus:
        """Poll a job once; 404 (unknown or expired) raises JobNotFound."""
        return read_status(self._session, job.status_url if isinstance(job, JobHandle) else job)

    def wait_for_job(
        self,
        job: JobHandle | str,
        timeout: float = 600,
        stall_timeout: float = 120,
        initial_interval: float = 1.0,
        max_interval: float = 15.0,
        on_status: Callable[[JobStatus], None] | None = None,
        not_found_grace: float = 10.0,
    ) -> JobStatus:
        """Poll to completed/ready (JobFailed, JobCancelled, JobTimeout, JobNotFound otherwise);
        a 404 within `not_found_grace` s of the first poll means "not visible yet": poll on."""
        job_id = job.job_id if isinstance(job, JobHandle) else job_id_from_url(job)
        return poll(
            lambda: self.job_status(job), clock=self.clock, sleep=self._sleep,
            timeout=timeout, stall_timeout=stall_timeout, initial_interval=initial_interval,
            max_interval=max_interval, on_status=on_status, not_found_grace=not_found_grace,
            job_id=self._session.redactor.clip(job_id),
        )  # fmt: skip

    # -- plumbing ----------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return p.json_object(self._session.request("GET", path, params=params or None), "GET", path)

    def _post(self, path: str, body: Any = None) -> p.Written:
        answer, status = self._session.exchange("POST", path, body=body)
        return p.Written(p.json_object(answer, "POST", path), status=status)

    def _walk(self, listing: p.Listing, params: dict[str, Any], per_page: int | None) -> Walk:
        base = p.query(params)

        def fetch(page: int, size: int | None) -> Any:
            sized = {} if size is None else {"per_page": str(size)}
            query = {**base, "page": str(page), **sized}
            return self._session.request("GET", listing.path, params=query)

        return Walk(
            fetch, list_key=listing.list_key, key=listing.key, key_name=listing.key_name,
            normalize=listing.normalize, per_page=per_page or self.per_page,
            concurrency=self.concurrency, query=base,
            inflight=lambda: Inflight(self.concurrency, self.max_concurrency, clock=self.clock,
                                      room=self._budget.points_left, trouble=self.stats.trouble),
            relax=lambda: p.widen_to_dates(base),  # a server taking only dates for from/to
        )  # fmt: skip
