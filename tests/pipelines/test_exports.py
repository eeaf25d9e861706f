"""Report exports: submit, poll, download without the key, load `export_<name>` in DuckDB."""

from __future__ import annotations

import csv
import io

import dagster as dg
import duckdb
import httpx
import pytest

import warehouse.schema
from pipelines.cli_support import ensure_dagster_home
from pipelines.ops.exports import export_report
from pipelines.resources import StoqResource, WarehouseResource
from preorders.exports import DownloadFailed, ExportRequest, UnknownReport, fetch_and_load, submit
from preorders.jobtracking import track_job
from sandbox import DEFAULT_API_KEY, FakeClock, SandboxConfig, Shop, mock_transport, serve
from stoq import JobStatus, StoqClient
from warehouse import jobs
from warehouse.exports import KNOWN_REPORTS

BASE_URL = "http://sandbox.test/api/v2/external"


class Recorder(httpx.BaseTransport):
    """A transport that remembers every request it forwards."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def shop(clock):
    return Shop(SandboxConfig(rate_limit_points=1_000_000, orders=80, job_steps=2), clock=clock)


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        warehouse.schema.apply(c)
        yield c


@pytest.fixture
def dagster_home(tmp_path, monkeypatch):
    home = ensure_dagster_home(tmp_path / "dagster_home")
    monkeypatch.setenv("DAGSTER_HOME", str(home))


def served_rows(shop: Shop) -> list[dict[str, str]]:
    """The rows of the one CSV the shop serves."""
    ((data, _expires),) = shop.downloads.values()
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_export_loads_the_csv_and_never_sends_the_key_to_the_download(shop, clock, conn):
    api = Recorder(mock_transport(shop))
    download = Recorder(mock_transport(shop))
    with StoqClient(
        DEFAULT_API_KEY, BASE_URL, transport=api, sleep=clock.sleep, clock=clock.monotonic
    ) as client:
        handle = submit(client, conn, ExportRequest("by_offer"))
        status = track_job(client, conn, handle)
    rows = fetch_and_load(conn, "by_offer", status, transport=download)

    want = served_rows(shop)
    assert rows == len(want) > 0
    loaded = conn.execute("select count(*), count(_loaded_at) from export_by_offer").fetchone()
    assert loaded == (len(want), len(want))
    (request,) = download.requests
    assert request.url.path.startswith("/_sandbox/downloads/")
    assert "x-auth-token" not in request.headers and "authorization" not in request.headers
    assert DEFAULT_API_KEY not in str(request.url)
    assert all(r.headers["x-auth-token"] == DEFAULT_API_KEY for r in api.requests)
    assert jobs.get_job(conn, handle.job_id)["last_status"] == "ready"


def test_filters_go_to_the_export_and_into_the_batch_key(shop, clock, conn):
    request = ExportRequest("revenue", date_from="2026-01-01", date_to="2026-02-28")
    with StoqClient(
        DEFAULT_API_KEY, BASE_URL, transport=mock_transport(shop), sleep=clock.sleep
    ) as client:
        handle = submit(client, conn, request)
    row = jobs.find_job(conn, request.batch_key())
    assert row["job_id"] == handle.job_id and row["kind"] == "export"
    assert '"from_":"2026-01-01"' in row["batch_key"]
    assert ExportRequest("revenue").batch_key() != request.batch_key()


def test_an_expired_download_fails_clearly_without_leaking_the_signature(shop, clock, conn):
    with StoqClient(
        DEFAULT_API_KEY, BASE_URL, transport=mock_transport(shop), sleep=clock.sleep
    ) as client:
        status = track_job(client, conn, client.start_export("summary"))
    clock.advance(shop.config.download_ttl_seconds + 1)
    with pytest.raises(DownloadFailed, match="answered 403") as caught:
        fetch_and_load(conn, "summary", status, transport=mock_transport(shop))
    assert "Signature" not in str(caught.value)
    assert conn.execute("select count(*) from information_schema.tables "
                        "where table_name = 'export_summary'").fetchone() == (0,)  # fmt: skip


def test_unknown_report_names_are_refused():
    with pytest.raises(ValueError, match="unknown report"):
        ExportRequest("orders; drop table jobs")


class CatalogApi:
    """A STOQ that lists `names` in its report catalog (or answers `catalog_status`) and accepts
    any export; every request is recorded."""

    def __init__(self, names: list[str], catalog_status: int = 200) -> None:
        self.names = names
        self.catalog_status = catalog_status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/api/v2/external")
        if request.method == "GET" and path == "/preorders/reports":
            if self.catalog_status != 200:
                return httpx.Response(self.catalog_status, json={"errors": ["No v2 action"]})
            return httpx.Response(200, json={"reports": [{"name": n} for n in self.names]})
        if request.method == "POST" and path.endswith("/export"):
            body = {"job_id": "exp_1", "status_url": "/api/v2/external/preorders/jobs/exp_1"}
            return httpx.Response(202, json=body)
        return httpx.Response(404, json={"errors": ["No v2 action"]})

    def posts(self) -> list[str]:
        return [r.url.path for r in self.requests if r.method == "POST"]


def catalog_client(api: CatalogApi, clock) -> StoqClient:
    transport = httpx.MockTransport(api)
    return StoqClient(DEFAULT_API_KEY, BASE_URL, transport=transport, sleep=clock.sleep)


def test_a_report_the_live_catalog_lists_is_exported_whatever_its_name(clock, conn):
    api = CatalogApi(["summary", "by_channel"])
    with catalog_client(api, clock) as client:
        handle = submit(client, conn, ExportRequest("by_channel"))
    assert handle.job_id == "exp_1"
    assert api.posts() == ["/api/v2/external/preorders/reports/by_channel/export"]
    assert ExportRequest("by_channel").table == "export_by_channel"


def test_a_known_name_the_live_catalog_lacks_is_refused_naming_the_catalog(clock, conn):
    api = CatalogApi(["summary", "by_channel"])
    with catalog_client(api, clock) as client, pytest.raises(UnknownReport) as caught:
        submit(client, conn, ExportRequest("revenue"))
    message = str(caught.value)
    assert message == "unknown report 'revenue'; the catalog lists: by_channel, summary"
    assert api.posts() == [] and jobs.open_jobs(conn) == []


def test_without_a_catalog_the_known_names_stand_in(clock, conn):
    api = CatalogApi([], catalog_status=404)
    notes: list[str] = []
    with catalog_client(api, clock) as client:
        submit(client, conn, ExportRequest("by_state"), log=notes.append)
        with pytest.raises(UnknownReport, match="the known reports are: summary, revenue"):
            submit(client, conn, ExportRequest("by_channel"))
    assert api.posts() == ["/api/v2/external/preorders/reports/by_state/export"]
    assert notes[0].startswith("report catalog unavailable")
    assert "by_state" in KNOWN_REPORTS


def test_a_report_named_like_a_dashboard_view_loads_beside_the_view(clock, conn):
    api = CatalogApi(["key_figures"])
    with catalog_client(api, clock) as client:
        submit(client, conn, ExportRequest("key_figures"))
    assert api.posts() == ["/api/v2/external/preorders/reports/key_figures/export"]
    view_before = conn.execute("select * from report_key_figures").fetchall()

    def bucket(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="metric,value\norders,7\n")

    url = "https://bucket.test/exports/key_figures.csv?Signature=x"
    ready = JobStatus("exp_1", "ready", raw={"download_url": url})
    rows = fetch_and_load(conn, "key_figures", ready, transport=httpx.MockTransport(bucket))
    assert rows == 1 and ExportRequest("key_figures").table == "export_key_figures"
    assert conn.execute("select metric, value from export_key_figures").fetchall() == [
        ("orders", 7)
    ]
    kind = "select table_type from information_schema.tables where table_name = ?"
    assert conn.execute(kind, ["report_key_figures"]).fetchone() == ("VIEW",)
    assert conn.execute("select * from report_key_figures").fetchall() == view_before


# -- the Dagster job over a loopback sandbox ---------------------------------------------------


@pytest.fixture
def live():
    shop = Shop(SandboxConfig(rate_limit_points=1_000_000, orders=80, job_steps=2))
    with serve(shop) as running:
        yield running


def run_export(live, db_path, **config):
    return export_report.execute_in_process(
        run_config={
            "ops": {
                "submit_export": {"config": config},
                "poll_job": {"config": {"initial_interval": 0.01, "max_interval": 0.05}},
            }
        },
        resources={
            "stoq": StoqResource(api_key=DEFAULT_API_KEY, base_url=live.base_url),
            "warehouse": WarehouseResource(database=db_path),
        },
        raise_on_error=False,
    )


def test_export_report_job_end_to_end_with_replace_semantics(live, tmp_path, dagster_home):
    db_path = str(tmp_path / "w.duckdb")
    first = run_export(live, db_path, report="by_state")
    assert first.success
    rows = first.output_for_node("load_export")
    second = run_export(live, db_path, report="by_state")
    assert second.success and second.output_for_node("load_export") == rows > 0
    with duckdb.connect(db_path) as conn:
        assert conn.execute("select count(*) from export_by_state").fetchone() == (rows,)
        kinds = conn.execute("select kind, last_status, dagster_run_id from jobs").fetchall()
    assert sorted(kinds) == sorted(
        [("export", "ready", first.run_id), ("export", "ready", second.run_id)]
    )
    assert live.shop.count_requests("POST", "/preorders/reports/by_state/export") == 2


def test_export_job_reattaches_to_the_export_a_crashed_run_left(live, tmp_path, dagster_home):
    db_path = str(tmp_path / "w.duckdb")
    request = ExportRequest("summary", date_from="2026-01-01")
    with duckdb.connect(db_path) as conn, StoqClient(DEFAULT_API_KEY, live.base_url) as client:
        warehouse.schema.apply(conn)
        crashed = submit(client, conn, request)  # then the run died before polling
    result = run_export(live, db_path, report="summary", date_from="2026-01-01")
    assert result.success
    assert live.shop.count_requests("POST") == 1
    with duckdb.connect(db_path) as conn:
        assert jobs.get_job(conn, crashed.job_id)["dagster_run_id"] == result.run_id


def test_export_job_refuses_an_unknown_report(live, tmp_path, dagster_home):
    result = run_export(live, str(tmp_path / "w.duckdb"), report="secrets")
    assert not result.success
    (event,) = result.get_step_failure_events()
    assert "unknown report 'secrets'" in event.step_failure_data.user_failure_data.description
    assert live.shop.count_requests("POST") == 0


def test_export_report_job_is_a_dagster_job():
    assert isinstance(export_report, dg.JobDefinition)
    assert {n.name for n in export_report.nodes} == {"submit_export", "poll_job", "load_export"}


def config_fields(job: dg.JobDefinition) -> dict[str, dict[str, str | None]]:
    """Every op's config fields in the job's launch form: {op: {field: description}}."""
    ops = job.run_config_schema.config_type.fields["ops"].config_type.fields
    out: dict[str, dict[str, str | None]] = {}
    for op, shape in ops.items():
        config = shape.config_type.fields.get("config")
        fields = (getattr(config.config_type, "fields", None) or {}) if config else {}
        out[op] = {name: field.description for name, field in fields.items()}
    return out


def test_export_form_shows_only_what_an_operator_chooses():
    fields = config_fields(export_report)
    assert set(fields) == {"submit_export", "poll_job", "load_export"}
    names = {name for op in fields.values() for name in op}
    assert not names & {"job_id", "status_url", "batch_key", "kind"}
    assert set(fields["submit_export"]) == {"report", "date_from", "date_to", "offer_id", "shop"}
    for date in ("date_from", "date_to"):
        assert "YYYY-MM-DD" in fields["submit_export"][date]
