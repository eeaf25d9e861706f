"""`preorders shops` as a subprocess: the shops, whether each key is set (never its value)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.assets.helpers import make_shop, run_sync
from tests.pipelines.cli_helpers import cli_env, run_cli

# A secret starting with "e" would blank "pi_key_e…" (in STOQ_API_KEY_EU) wherever it appears.
KEY_EU = "stoq_api_key_" + "7" * 32
KEY_DEFAULT = "stoq_api_key_" + "d" * 32
SHOPS = """
shops:
  - name: default
    api_key_env: STOQ_API_KEY
  - name: eu
    api_key_env: STOQ_API_KEY_EU
    base_url: http://127.0.0.1:8765/api/v2/external
    points_per_window: 100
"""


@pytest.fixture(scope="module")
def synced_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file synced once from a small sandbox shop (today's schema: no shop column)."""
    db = tmp_path_factory.mktemp("shops_cli") / "preorders.duckdb"
    run_sync(make_shop(20), db)
    return db


def shops_env(tmp_path: Path, **env: str) -> dict[str, str]:
    path = tmp_path / "shops.yaml"
    path.write_text(SHOPS)
    keys = {"STOQ_API_KEY": KEY_DEFAULT, "STOQ_API_KEY_EU": KEY_EU}
    return cli_env(tmp_path, PREORDERS_SHOPS=str(path), **keys | env)


def test_without_a_shops_file_it_lists_the_default_shop_and_creates_no_warehouse(tmp_path):
    done = run_cli(cli_env(tmp_path), "shops")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("PREORDERS_SHOPS not set: one shop, `default`")
    assert lines[1].split() == ["SHOP", "KEY", "VARIABLE", "BASE", "URL", "BUDGET", "LAST", "SYNC"]
    assert lines[2].split() == [
        "default", "STOQ_API_KEY", "(not", "set)", "https://app.stoqapp.com/api/v2/external",
        "360/min", "never",
    ]  # fmt: skip
    assert len(lines) == 3 and done.stderr == ""
    assert not (tmp_path / "preorders.duckdb").exists()


def test_a_shops_file_lists_every_shop_and_never_a_key(tmp_path):
    done = run_cli(shops_env(tmp_path, STOQ_API_KEY_EU=""), "shops")
    assert done.returncode == 2  # an unset key variable is a bad file
    done = run_cli(shops_env(tmp_path), "shops")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"shops from {tmp_path / 'shops.yaml'} (PREORDERS_SHOPS)"
    assert [line.split()[:4] for line in lines[2:]] == [
        ["default", "STOQ_API_KEY", "(set)", "https://app.stoqapp.com/api/v2/external"],
        ["eu", "STOQ_API_KEY_EU", "(set)", "http://127.0.0.1:8765/api/v2/external"],
    ]
    assert [line.split()[4:] for line in lines[2:]] == [["360/min", "never"], ["100/min", "never"]]
    assert KEY_EU not in done.stdout + done.stderr and "77777777" not in done.stdout
    assert KEY_DEFAULT not in done.stdout + done.stderr and "dddddddd" not in done.stdout


def test_json_has_each_shop_and_whether_its_key_is_set(tmp_path):
    done = run_cli(shops_env(tmp_path), "shops", "--json")
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["shops_file"] == str(tmp_path / "shops.yaml")
    assert facts["warehouse"] == str(tmp_path / "preorders.duckdb")
    assert facts["shops"] == [
        {"name": "default", "api_key_env": "STOQ_API_KEY", "key_set": True,
         "base_url": "https://app.stoqapp.com/api/v2/external", "points_per_window": 360,
         "last_sync": None},
        {"name": "eu", "api_key_env": "STOQ_API_KEY_EU", "key_set": True,
         "base_url": "http://127.0.0.1:8765/api/v2/external", "points_per_window": 100,
         "last_sync": None},
    ]  # fmt: skip
    assert KEY_EU not in done.stdout and KEY_DEFAULT not in done.stdout


def test_the_last_sync_per_stream_is_each_shops_own(tmp_path, synced_db):
    env = shops_env(tmp_path, PREORDERS_DUCKDB_PATH=str(synced_db))
    done = run_cli(env, "shops", "--json")
    assert done.returncode == 0, done.stderr
    default, eu = json.loads(done.stdout)["shops"]
    assert set(default["last_sync"]) == {"offers", "orders"}
    orders = default["last_sync"]["orders"]
    assert orders["outcome"] == "succeeded"
    assert orders["finished_at"][:2] == "20" and orders["last_success_at"] == orders["finished_at"]
    assert eu["last_sync"] is None  # the warehouse holds no run of shop eu
    lines = run_cli(env, "shops").stdout.splitlines()
    assert f"; orders {orders['finished_at']} succeeded" in lines[2]
    assert lines[2].split("  ")[-1].startswith("offers ")
    assert lines[3].endswith("  never")
    one = run_cli(env, "shops", "--json", "--shop", "eu")
    assert [s["name"] for s in json.loads(one.stdout)["shops"]] == ["eu"]
    assert run_cli(env, "shops", "--shop", "us").returncode == 2


@pytest.mark.parametrize("as_json", [False, True])
def test_a_bad_shops_file_exits_2_with_the_message(tmp_path, as_json):
    env = shops_env(tmp_path)
    Path(env["PREORDERS_SHOPS"]).write_text(SHOPS + "    api_key: " + KEY_EU + "\n")
    done = run_cli(env, "shops", *(["--json"] if as_json else []))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == (
        f"preorders shops: shops file {tmp_path / 'shops.yaml'} (PREORDERS_SHOPS): shop 'eu' (#2): "
        "unknown field 'api_key' in a shop; keys never live in the file: use api_key_env"
    )
