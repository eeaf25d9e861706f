"""Job polling to every terminal status, timeout, stall and expiry; status_url resolution."""

from __future__ import annotations

import httpx
import pytest

from stoq import JobHandle, JobStatus, errors
from stoq.jobs import job_id_from_url, resolve_status_url

from .conftest import API, FakeApi, reply

JOB_ID = "bulk_orders_release_a8c3f01b9d2e4471"
STATUS_PATH = f"/preorders/orders/jobs/{JOB_ID}"
HANDLE = JobHandle(JOB_ID, f"{API}{STATUS_PATH}", 47)


def status(state: str, processed: int = 0, **extra) -> dict:
    progress = round(100 * processed / 47)
    return {"job_id": JOB_ID, "status": state, "progress": progress, "total": 47,
            "processed": processed, **extra}  # fmt: skip


def jobs_api(*bodies: dict) -> FakeApi:
    return FakeApi().on("GET", STATUS_PATH, *(reply(200, b) for b in bodies))


def test_polls_to_completed_with_doubling_intervals(make_client, clock):
    api = jobs_api(*(status("running", n) for n in (0, 5, 10, 20, 30, 40)), status("completed", 47))
    seen: list[JobStatus] = []
    result = make_client(api).wait_for_job(HANDLE, max_interval=8.0, on_status=seen.append)
    assert result.status == "completed"
    assert result.terminal
    assert result.processed == 47
    assert [s.processed for s in seen] == [0, 5, 10, 20, 30, 40, 47]
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_export_ready_exposes_the_download_url(make_client):
    ready = status(
        "ready",
        47,
        status_url=f"{API}/x",
        expires_at="2025-07-01T00:00:00Z",
        download_url="https://bucket.s3.amazonaws.com/exp.csv?X-Amz-Signature=abc",
    )
    result = make_client(jobs_api(status("running"), ready)).wait_for_job(HANDLE)
    assert result.status == "ready"
    assert result.download_url.startswith("https://bucket.s3.amazonaws.com/")


def test_download_url_takes_any_http_url_field_but_status_url():
    body = {"job_id": "exp_1", "status": "ready", "status_url": "https://a/b", "file_url": "s3://x"}
    assert JobStatus.parse(body).download_url is None
    body["signed_url"] = "https://signed.example/exp_1.csv"
    assert JobStatus.parse(body).download_url == "https://signed.example/exp_1.csv"


def test_failed_raises_with_the_status(make_client):
    api = jobs_api(status("running"), status("failed", 3, error="Shopify API unavailable"))
    with pytest.raises(errors.JobFailed, match="Shopify API unavailable") as info:
        make_client(api).wait_for_job(HANDLE)
    assert info.value.status is not None
    assert info.value.status.error == "Shopify API unavailable"


def test_cancelled_raises(make_client):
    with pytest.raises(errors.JobCancelled) as info:
        make_client(jobs_api(status("cancelled", 3))).wait_for_job(HANDLE)
    assert info.value.status.status == "cancelled"


def test_overall_timeout(make_client, clock):
    counter = iter(range(10_000))

    def moving(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=status("running", next(counter) % 47))

    api = FakeApi().on("GET", STATUS_PATH, moving)
    with pytest.raises(errors.JobTimeout, match="after 60s") as info:
        make_client(api).wait_for_job(HANDLE, timeout=60, stall_timeout=1000)
    assert info.value.status.status == "running"
    assert clock.now == pytest.approx(60.0)


def test_stall_is_reported_as_such(make_client, clock):
    api = jobs_api(status("running", 0), status("running", 10))  # then stuck at 10
    with pytest.raises(errors.JobTimeout, match="stalled"):
        make_client(api).wait_for_job(HANDLE, timeout=3600, stall_timeout=30, max_interval=4)
    assert 30.0 <= clock.now < 40.0


def test_expired_job_is_not_found(make_client):
    api = FakeApi().on("GET", STATUS_PATH, reply(404, {"errors": ["Job not found"]}))
    with pytest.raises(errors.JobNotFound, match=JOB_ID) as info:
        make_client(api).wait_for_job(HANDLE)
    assert isinstance(info.value.__cause__, errors.NotFound)


def test_host_relative_status_url_hangs_off_the_origin(make_client):
    api = jobs_api(status("completed", 47))
    make_client(api).job_status(f"{API}{STATUS_PATH}")
    assert str(api.last.url) == f"https://stoq.test{API}{STATUS_PATH}"  # not .../external/api/...


def test_absolute_status_url_is_used_as_is(make_client):
    api = jobs_api(status("completed", 47))
    make_client(api).job_status(f"https://stoq.test{API}{STATUS_PATH}?sig=1")
    assert str(api.last.url) == f"https://stoq.test{API}{STATUS_PATH}?sig=1"
    assert "X-Auth-Token" in api.last.headers


def test_resolve_status_url_keeps_the_port():
    origin = "http://127.0.0.1:8123"
    assert (
        resolve_status_url(origin, "/api/v2/external/jobs/x") == f"{origin}/api/v2/external/jobs/x"
    )
    assert resolve_status_url(origin, "https://other/x") == "https://other/x"
    # Was ValueError: a bad status_url in an API answer is a malformed response, a StoqError.
    with pytest.raises(errors.MalformedResponse, match="start with '/'"):
        resolve_status_url(origin, "jobs/x")


def test_job_status_polls_once_and_costs_a_point(make_client):
    client = make_client(jobs_api(status("running", 12)))
    result = client.job_status(HANDLE)
    assert (result.job_id, result.status, result.processed, result.terminal) == (
        JOB_ID, "running", 12, False,
    )  # fmt: skip
    assert client.stats.snapshot().points == 1


def test_handle_without_job_id_is_malformed():
    with pytest.raises(errors.MalformedResponse):
        JobHandle.parse({"status_url": "/x"})


def test_404s_in_the_grace_are_not_reported_as_statuses(make_client, clock):
    not_yet = reply(404, {"errors": ["Job not found"]})
    api = FakeApi().on("GET", STATUS_PATH, not_yet, not_yet, reply(200, status("completed", 47)))
    seen: list[JobStatus] = []
    result = make_client(api).wait_for_job(HANDLE, on_status=seen.append)
    assert result.status == "completed" and len(api.requests) == 3
    assert [s.status for s in seen] == ["completed"]


def test_a_timeout_inside_the_grace_with_only_404s_is_not_found(make_client, clock):
    api = FakeApi().on("GET", STATUS_PATH, reply(404, {"errors": ["Job not found"]}))
    seen: list[JobStatus] = []
    with pytest.raises(errors.JobNotFound, match=f"job {JOB_ID} is unknown or expired") as info:
        make_client(api).wait_for_job(f"{API}{STATUS_PATH}", timeout=3, on_status=seen.append)
    assert seen == [] and info.value.status is None
    assert clock.now == pytest.approx(3.0)


def test_a_status_url_names_the_job_when_the_body_does_not(make_client):
    anonymous = {"status": "running", "progress": 0}
    api = jobs_api(anonymous, {"status": "completed", "progress": 100})
    seen: list[JobStatus] = []
    result = make_client(api).wait_for_job(f"{API}{STATUS_PATH}", on_status=seen.append)
    assert [s.job_id for s in seen] == [JOB_ID, JOB_ID] and result.job_id == JOB_ID


def test_job_id_from_url_is_the_last_path_segment():
    assert job_id_from_url(f"https://stoq.test{API}{STATUS_PATH}/?x=1") == JOB_ID


def test_a_relative_status_url_without_a_slash_is_a_malformed_response(make_client):
    api = FakeApi()
    client = make_client(api)
    with pytest.raises(errors.MalformedResponse, match="'jobs/x'"):
        client.wait_for_job(JobHandle("x", "jobs/x"))
    with pytest.raises(errors.StoqError):
        client.job_status("preorders/orders/jobs/x")
    assert api.requests == []


@pytest.mark.parametrize("odd", ["50%", None, [50], {"p": 1}, True, float("nan"), 10**400])
def test_a_progress_that_is_no_finite_number_reads_as_none(odd):
    # Stored in a DOUBLE column: '50%' failed the insert and jammed every later release.
    body = {"job_id": "j1", "status": "running", "progress": odd, "total": "9", "processed": -1}
    status = JobStatus.parse(body)
    assert (status.progress, status.total, status.processed) == (None, None, None)
    assert JobStatus.parse({**body, "progress": 42, "total": 9}).progress == 42
