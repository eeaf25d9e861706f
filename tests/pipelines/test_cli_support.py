"""Configuration mistakes end as one line and exit 1, never a traceback or a retry loop."""

from __future__ import annotations

import pytest

from pipelines.cli import main

KEY = "stoq_api_key_" + "k" * 32


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("STOQ_API_KEY", KEY)
    monkeypatch.setenv("STOQ_BASE_URL", "http://127.0.0.1:9/api/v2/external")
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.delenv("STOQ_MAX_RETRIES", raising=False)


def one_line(capsys) -> str:
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and KEY not in err
    return err.strip()


def test_a_warehouse_path_where_no_folder_can_be_made_is_one_line(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(blocker / "sub" / "w.duckdb"))
    assert main(["report"]) == 1
    assert one_line(capsys).startswith("preorders report: warehouse unavailable: ")


def test_a_non_integer_stoq_max_retries_is_named(monkeypatch, capsys):
    monkeypatch.setenv("STOQ_MAX_RETRIES", "abc")
    assert main(["offers", "list"]) == 1
    assert (
        one_line(capsys) == "preorders offers list: STOQ_MAX_RETRIES must be an integer (got 'abc')"
    )


@pytest.mark.parametrize("base_url", ["ftp://stoq.test/api/v2/external", "stoq.test/api"])
def test_a_base_url_that_is_not_http_is_refused_before_any_request(base_url, monkeypatch, capsys):
    monkeypatch.setenv("STOQ_BASE_URL", base_url)
    assert main(["offers", "list"]) == 2  # a usage error (ConfigurationError), not a failure
    assert "must be an http:// or https:// URL with a host" in one_line(capsys)


def test_ensure_dagster_home_writes_a_minimal_yaml_but_never_overwrites_one(tmp_path):
    from pipelines.cli_support import MINIMAL_DAGSTER_YAML, ensure_dagster_home

    home = ensure_dagster_home(tmp_path / "new" / "home")
    assert (home / "dagster.yaml").read_text() == MINIMAL_DAGSTER_YAML
    assert "telemetry:\n  enabled: false" in MINIMAL_DAGSTER_YAML
    assert "nux:\n  enabled: false" in MINIMAL_DAGSTER_YAML
    assert "concurrency:\n  pools:\n    default_limit: 1\n" in MINIMAL_DAGSTER_YAML
    (home / "dagster.yaml").write_text("run_monitoring:\n  enabled: true\n")
    assert ensure_dagster_home(home) == home
    assert (home / "dagster.yaml").read_text() == "run_monitoring:\n  enabled: true\n"
