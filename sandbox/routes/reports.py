"""Report actions: the catalog, JSON reads and CSV exports behind signed-looking URLs."""

from __future__ import annotations

import hashlib

from sandbox.clock import iso
from sandbox.errors import not_found
from sandbox.jobs import Job
from sandbox.registry import REGISTRY
from sandbox.reports import QUERY_SCHEMA, REPORTS, build, catalog, to_csv
from sandbox.routes.common import page_params, paged, poll_job

action = REGISTRY.action
BASE = "/preorders/reports"


@action(
    "list_reports",
    "GET",
    BASE,
    "The catalog of the nine preorder reports.",
    aliases=["list reports", "reports"],
)
def list_reports(shop, req):
    return 200, {"reports": catalog()}


def _report(shop, name: str, query: dict) -> dict:
    if name not in REPORTS:
        raise not_found("Report")
    return build(shop, name, query)


@action(
    "get_report",
    "GET",
    f"{BASE}/:name",
    "Run one report over a date window (default 30 days).",
    aliases=["run report"],
    schema=QUERY_SCHEMA,
    notes="from/to are inclusive dates in UTC. by_variant needs offer scope (422 without). "
    "customers is paginated.",
)
def read_report(shop, req):
    body = _report(shop, req.params["name"], req.query)
    if "customers" in body:
        page, per_page = page_params(shop, req.query)
        body.update(paged("customers", body["customers"], page, per_page))
    return 200, body


@action(
    "export_report",
    "POST",
    f"{BASE}/:name/export",
    "Export a report as CSV (async job).",
    aliases=["export report", "download report"],
    schema=QUERY_SCHEMA,
    notes="Same filters as the read, as a JSON body. Terminal status `ready` adds download_url.",
)
def export_report(shop, req):
    name = req.params["name"]
    body = _report(shop, name, req.body)
    data, row_count = to_csv(body)
    job_id = f"exp_{shop.new_hex()}"

    def finish(job: Job) -> dict:
        token = hashlib.sha256(f"{job.id}:{shop.config.seed}".encode()).hexdigest()[:32]
        expires = shop.now() + shop.config.download_ttl_seconds
        shop.downloads[token] = (data, expires)
        signature = hashlib.sha256(f"sig:{token}".encode()).hexdigest()
        url = (
            f"{req.origin}/_sandbox/downloads/{token}.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Expires={int(shop.config.download_ttl_seconds)}&X-Amz-Signature={signature}"
        )
        return {
            "download_url": url,
            "expires_at": iso(expires),
            "filename": f"{name}.csv",
            "row_count": row_count,
        }

    # Items are the CSV rows so progress moves like any other job.
    job = Job(
        job_id,
        f"{BASE}/jobs/{job_id}",
        list(range(row_count)),
        lambda _: None,
        done_status="ready",
        on_done=finish,
    )
    shop.submit_job(job)
    return 202, {"job_id": job_id, "status_url": shop.status_url(job.status_path, req.origin)}


@action("get_report_job", "GET", f"{BASE}/jobs/:job_id", "Poll a report export job.")
def report_job(shop, req):
    return 200, poll_job(shop, req)
