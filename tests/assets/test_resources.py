"""Resources: limits resolved from fields, then the environment at run time; warehouse opens."""

from __future__ import annotations

import time

import duckdb
import pytest

from assets.resources import StoqResource, WarehouseResource
from sandbox import DEFAULT_API_KEY, SandboxConfig, Shop, serve
from stoq import errors
from warehouse.errors import WarehouseUnavailable


def stoq(**fields) -> StoqResource:
    return StoqResource(api_key=DEFAULT_API_KEY, base_url="http://127.0.0.1:1", **fields)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("STOQ_REQUEST_DEADLINE_S", "STOQ_MAX_BODY_BYTES", "PREORDERS_LOCK_WAIT_S"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PREORDERS_DUCKDB_PATH", raising=False)


def test_limits_default_to_120_s_and_32_mib():
    assert stoq().resolved_deadline() == 120.0
    assert stoq().resolved_max_body_bytes() == 32 * 1024 * 1024


def test_limits_come_from_the_environment_when_the_fields_are_unset(monkeypatch):
    resource = stoq()
    monkeypatch.setenv("STOQ_REQUEST_DEADLINE_S", "7.5")
    monkeypatch.setenv("STOQ_MAX_BODY_BYTES", " 4096 ")
    assert resource.resolved_deadline() == 7.5  # read at run time, after the resource was made
    assert resource.resolved_max_body_bytes() == 4096


def test_fields_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("STOQ_REQUEST_DEADLINE_S", "7.5")
    monkeypatch.setenv("STOQ_MAX_BODY_BYTES", "4096")
    resource = stoq(deadline_s=3.0, max_body_bytes=100)
    assert resource.resolved_deadline() == 3.0
    assert resource.resolved_max_body_bytes() == 100


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("STOQ_REQUEST_DEADLINE_S", "soon"),
        ("STOQ_REQUEST_DEADLINE_S", "0"),
        ("STOQ_REQUEST_DEADLINE_S", "-3"),
        ("STOQ_REQUEST_DEADLINE_S", "nan"),
        ("STOQ_MAX_BODY_BYTES", "1.5"),
        ("STOQ_MAX_BODY_BYTES", "0"),
        ("STOQ_MAX_BODY_BYTES", "32MB"),
    ],
)
def test_a_bad_value_is_a_value_error_naming_the_variable(monkeypatch, name, raw):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValueError, match=f"^{name} must be .* > 0"):
        stoq().client()


def test_a_bad_field_is_refused_too():
    with pytest.raises(ValueError, match="STOQ_MAX_BODY_BYTES must be an integer > 0"):
        stoq(max_body_bytes=0).resolved_max_body_bytes()


def test_the_client_enforces_the_body_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("STOQ_MAX_BODY_BYTES", "64")
    with serve(Shop(SandboxConfig(orders=5))) as live:
        resource = StoqResource(api_key=DEFAULT_API_KEY, base_url=live.base_url, max_retries=0)
        with resource.client() as client, pytest.raises(errors.TransportError, match="64 bytes"):
            client.list_reports()
        monkeypatch.delenv("STOQ_MAX_BODY_BYTES")
        with resource.client() as client:
            assert client.list_reports()


def test_a_directory_as_warehouse_fails_at_once_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(tmp_path))
    started = time.monotonic()
    with pytest.raises(WarehouseUnavailable) as caught, WarehouseResource().get_connection():
        pass
    assert str(caught.value) == (
        f"PREORDERS_DUCKDB_PATH {tmp_path} is a directory, not a DuckDB file"
    )
    assert time.monotonic() - started < 5.0


def test_a_non_duckdb_file_fails_at_once(tmp_path):
    path = tmp_path / "x.duckdb"
    path.write_text("not a database")
    started = time.monotonic()
    resource = WarehouseResource(database=str(path))
    with pytest.raises(WarehouseUnavailable, match="is not a DuckDB database file"):
        resource.get_connection().__enter__()
    assert time.monotonic() - started < 5.0


def test_lock_wait_resolves_from_field_then_environment(monkeypatch):
    assert WarehouseResource().resolved_lock_wait() == 30.0
    monkeypatch.setenv("PREORDERS_LOCK_WAIT_S", "4")
    assert WarehouseResource().resolved_lock_wait() == 4.0
    assert WarehouseResource(lock_wait_s=0.5).resolved_lock_wait() == 0.5


def test_the_warehouse_opens_with_the_schema_and_closes(tmp_path):
    path = tmp_path / "sub" / "w.duckdb"
    with WarehouseResource(database=str(path)).get_connection() as conn:
        assert conn.execute("select count(*) from orders").fetchone() == (0,)
    with duckdb.connect(str(path)) as again:  # closed: no lock left behind
        assert again.execute("select count(*) from _rejects").fetchone() == (0,)


def test_the_resources_resolve_exactly_as_the_cli_does(monkeypatch, tmp_path):
    from preorders.settings import StoqSettings, warehouse_from_env

    monkeypatch.setenv("STOQ_BASE_URL", "http://127.0.0.1:9/api/v2/external")
    monkeypatch.setenv("STOQ_MAX_RETRIES", "2")
    monkeypatch.setenv("STOQ_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("PREORDERS_LOCK_WAIT_S", "4")
    resource = StoqResource(api_key=DEFAULT_API_KEY, deadline_s=9.0)
    assert resource.settings() == StoqSettings.from_env(DEFAULT_API_KEY, deadline_s=9.0)
    assert resource.settings().max_retries == 2 and resource.settings().max_body_bytes == 4096
    assert WarehouseResource().settings() == warehouse_from_env()
    assert WarehouseResource().settings().path == str(tmp_path / "w.duckdb")
