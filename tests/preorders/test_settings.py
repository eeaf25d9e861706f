"""preorders.settings: an argument wins, then the environment, then a default."""

from __future__ import annotations

import duckdb
import pytest

import sandbox
from preorders import settings
from preorders.settings import (
    NO_KEY,
    MissingKey,
    StoqSettings,
    WarehouseSettings,
    api_key,
    client_from_env,
    open_warehouse,
    read_key,
    warehouse_from_env,
)
from stoq import DEFAULT_BASE_URL
from warehouse.errors import WarehouseUnavailable

KEY = "stoq_api_key_" + "s" * 32
VARIABLES = (
    "STOQ_API_KEY",
    "STOQ_BASE_URL",
    "STOQ_MAX_RETRIES",
    "STOQ_REQUEST_DEADLINE_S",
    "STOQ_MAX_BODY_BYTES",
    "PREORDERS_DUCKDB_PATH",
    "PREORDERS_LOCK_WAIT_S",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


# -- the key ----------------------------------------------------------------------------------


def test_the_key_is_read_now_and_stripped(monkeypatch):
    assert read_key() == ""
    monkeypatch.setenv("STOQ_API_KEY", f"  {KEY}\n")
    assert read_key() == KEY
    assert api_key() == KEY


def test_no_key_is_missing_key_with_the_hint(monkeypatch):
    monkeypatch.setenv("STOQ_API_KEY", "   ")
    with pytest.raises(MissingKey) as plain:
        api_key()
    assert str(plain.value) == NO_KEY
    with pytest.raises(MissingKey) as hinted:
        api_key(hint="or pass --dry-run")
    assert str(hinted.value) == f"{NO_KEY} (or pass --dry-run)"


def test_the_key_is_checked_before_any_other_setting(monkeypatch):
    monkeypatch.setenv("STOQ_MAX_RETRIES", "abc")  # would be a ValueError once a key is there
    monkeypatch.setenv("STOQ_BASE_URL", "ftp://nowhere")
    with pytest.raises(MissingKey, match="^STOQ_API_KEY is not set"):
        client_from_env()
    monkeypatch.setenv("STOQ_API_KEY", KEY)
    with pytest.raises(ValueError, match=r"^STOQ_MAX_RETRIES must be an integer \(got 'abc'\)$"):
        client_from_env()


def test_a_given_key_wins_over_the_environment_and_a_blank_one_is_missing(monkeypatch):
    monkeypatch.setenv("STOQ_API_KEY", KEY)
    assert StoqSettings.from_env("stoq_api_key_given").api_key == "stoq_api_key_given"
    assert StoqSettings.from_env().api_key == KEY
    with pytest.raises(MissingKey):
        StoqSettings.from_env("  ")


def test_the_key_never_shows_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("STOQ_API_KEY", KEY)
    shown = repr(StoqSettings.from_env())
    assert KEY not in shown and "s" * 8 not in shown
    assert "base_url=" in shown


# -- the client's settings --------------------------------------------------------------------


def test_defaults_when_nothing_is_set(monkeypatch):
    monkeypatch.setenv("STOQ_API_KEY", KEY)
    got = StoqSettings.from_env()
    assert (got.base_url, got.max_retries, got.deadline_s, got.max_body_bytes) == (
        DEFAULT_BASE_URL,
        6,
        120.0,
        32 * 1024 * 1024,
    )
    assert (got.concurrency, got.points_per_window, got.timeout) == (4, 360, 30.0)


def test_the_environment_is_read_when_asked_not_at_import(monkeypatch):
    monkeypatch.setenv("STOQ_API_KEY", KEY)
    monkeypatch.setenv("STOQ_BASE_URL", "http://127.0.0.1:9/api/v2/external")
    monkeypatch.setenv("STOQ_MAX_RETRIES", " 2 ")
    monkeypatch.setenv("STOQ_REQUEST_DEADLINE_S", "7.5")
    monkeypatch.setenv("STOQ_MAX_BODY_BYTES", "4096")
    got = StoqSettings.from_env()
    assert (got.base_url, got.max_retries, got.deadline_s, got.max_body_bytes) == (
        "http://127.0.0.1:9/api/v2/external",
        2,
        7.5,
        4096,
    )


def test_arguments_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("STOQ_API_KEY", KEY)
    monkeypatch.setenv("STOQ_BASE_URL", "http://127.0.0.1:9/env")
    monkeypatch.setenv("STOQ_MAX_RETRIES", "2")
    monkeypatch.setenv("STOQ_REQUEST_DEADLINE_S", "7.5")
    monkeypatch.setenv("STOQ_MAX_BODY_BYTES", "4096")
    got = StoqSettings.from_env(
        base_url="http://127.0.0.1:9/arg", max_retries=0, deadline_s=3.0, max_body_bytes=100
    )
    assert (got.base_url, got.max_retries, got.deadline_s, got.max_body_bytes) == (
        "http://127.0.0.1:9/arg",
        0,
        3.0,
        100,
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "STOQ_MAX_RETRIES must be an integer (got 'abc')"),
        ("1.5", "STOQ_MAX_RETRIES must be an integer (got '1.5')"),
        ("-1", "STOQ_MAX_RETRIES must be an integer >= 0 (got '-1')"),
    ],
)
def test_a_bad_max_retries_names_the_variable(monkeypatch, raw, message):
    monkeypatch.setenv("STOQ_MAX_RETRIES", raw)
    with pytest.raises(ValueError) as caught:
        settings.resolve_max_retries()
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("STOQ_REQUEST_DEADLINE_S", "soon", "STOQ_REQUEST_DEADLINE_S must be a number > 0"),
        ("STOQ_REQUEST_DEADLINE_S", "inf", "STOQ_REQUEST_DEADLINE_S must be a number > 0"),
        ("STOQ_MAX_BODY_BYTES", "-5", "STOQ_MAX_BODY_BYTES must be an integer > 0"),
    ],
)
def test_a_bad_limit_names_the_variable_and_the_value(monkeypatch, name, raw, message):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValueError) as caught:
        settings.resolve_deadline() if "DEADLINE" in name else settings.resolve_max_body_bytes()
    assert str(caught.value) == f"{message} (got {raw!r})"


def test_a_bad_argument_is_refused_naming_what_it_sets():
    with pytest.raises(ValueError) as caught:
        settings.resolve_deadline(0.0)
    assert str(caught.value) == (
        "the resource field for STOQ_REQUEST_DEADLINE_S must be a number > 0 (got 0.0)"
    )


def test_the_client_is_built_from_the_settings_and_talks_to_the_api(monkeypatch):
    monkeypatch.setenv("STOQ_API_KEY", sandbox.DEFAULT_API_KEY)
    monkeypatch.setenv("STOQ_MAX_RETRIES", "0")
    with sandbox.serve(sandbox.Shop(sandbox.SandboxConfig(orders=3))) as live:
        monkeypatch.setenv("STOQ_BASE_URL", live.base_url)
        with client_from_env(concurrency=2) as client:
            assert client.base_url == live.base_url
            assert client.concurrency == 2
            assert client.list_reports()


def test_the_client_refuses_a_base_url_that_is_not_http(monkeypatch):
    from stoq.errors import ConfigurationError

    monkeypatch.setenv("STOQ_BASE_URL", "ftp://stoq.test/api")
    with pytest.raises(ConfigurationError):
        client_from_env(KEY)


# -- the warehouse ----------------------------------------------------------------------------


def test_the_warehouse_path_and_the_setting_it_came_from(monkeypatch, tmp_path):
    assert settings.resolve_duckdb_path() == ("data/preorders.duckdb", "default DuckDB path")
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(tmp_path / "env.duckdb"))
    assert warehouse_from_env().path == str(tmp_path / "env.duckdb")
    assert warehouse_from_env().source == "PREORDERS_DUCKDB_PATH"
    given = warehouse_from_env(database=str(tmp_path / "arg.duckdb"))
    assert (given.path, given.source) == (
        str(tmp_path / "arg.duckdb"),
        "WarehouseResource.database",
    )


def test_the_lock_wait_from_argument_then_environment_then_30(monkeypatch):
    assert warehouse_from_env().lock_wait_s == 30.0
    monkeypatch.setenv("PREORDERS_LOCK_WAIT_S", "4")
    assert warehouse_from_env().lock_wait_s == 4.0
    assert warehouse_from_env(lock_wait_s=0).lock_wait_s == 0
    with pytest.raises(ValueError, match=r"^lock_wait_s must be >= 0 \(got -1\)$"):
        warehouse_from_env(lock_wait_s=-1)
    monkeypatch.setenv("PREORDERS_LOCK_WAIT_S", "later")
    with pytest.raises(ValueError, match=r"^PREORDERS_LOCK_WAIT_S must be a number of seconds"):
        warehouse_from_env()


def test_each_concern_resolves_on_its_own(monkeypatch, tmp_path):
    monkeypatch.setenv("STOQ_API_KEY", KEY)
    monkeypatch.setenv("STOQ_MAX_RETRIES", "abc")
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    assert warehouse_from_env().path == str(tmp_path / "w.duckdb")  # a bad client setting: no harm
    monkeypatch.setenv("STOQ_MAX_RETRIES", "1")
    monkeypatch.setenv("PREORDERS_LOCK_WAIT_S", "later")
    assert StoqSettings.from_env().max_retries == 1  # a bad warehouse setting: no harm


def test_open_warehouse_applies_the_schema_and_closes(monkeypatch, tmp_path):
    path = tmp_path / "sub" / "w.duckdb"
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(path))
    with open_warehouse() as conn:
        assert conn.execute("select count(*) from orders").fetchone() == (0,)
    with duckdb.connect(str(path)) as again:  # closed: no lock left behind
        assert again.execute("select count(*) from jobs").fetchone() == (0,)


def test_an_unusable_file_is_named_by_the_setting_it_came_from(tmp_path):
    where = WarehouseSettings(path=str(tmp_path), source="PREORDERS_DUCKDB_PATH", lock_wait_s=0)
    with pytest.raises(WarehouseUnavailable) as caught, where.connect():
        pass
    assert (
        str(caught.value) == f"PREORDERS_DUCKDB_PATH {tmp_path} is a directory, not a DuckDB file"
    )
