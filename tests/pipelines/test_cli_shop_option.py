"""`--shop NAME` on every command, against a two-shop sandbox (issue 13, item 5).

Every command that talks to STOQ or reads the warehouse takes `--shop`; `sync`, `status`,
`report` and `shops` cover every shop without it, every other command needs it once two shops are
configured. An unknown name or a bad shops file exits 2 before any request, and no shop's key
ever shows in what a command prints, even when STOQ rejects one shop's key.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import sandbox
from pipelines.cli import build_parser, main
from tests.pipelines.cli_helpers import cli_env, error_lines, run_cli

#: Commands that never talk to a configured shop: they serve or drive a sandbox of their own.
NO_SHOP = {"sandbox", "demo"}
#: A well-formed key STOQ does not know (the sandbox answers 401 for it).
WRONG_KEY = "stoq_api_key_" + "zq9x" * 8
SHOPS = ("shop1", "shop2")


def key_env(name: str) -> str:
    """The variable holding a shop's key. Not sandbox.shops.key_env's STOQ_API_KEY_SHOP2: the
    key of shop 2 starts with "s", so stoq.redact blanks "pi_key_s…" wherever it appears."""
    return f"{name.upper()}_KEY"


@pytest.fixture(scope="module")
def live() -> Iterator[sandbox.RunningSandbox]:
    config = sandbox.SandboxConfig(orders=40, offers=4, job_steps=0)
    with sandbox.serve(sandbox.Shops.seeded(2, config)) as server:
        yield server


def keys(live: sandbox.RunningSandbox) -> dict[str, str]:
    """Each shop's key variable and its key."""
    return {key_env(name): live.shops.key(name) for name in SHOPS}


def shops_env(tmp_path: Path, live: sandbox.RunningSandbox, **env: str) -> dict[str, str]:
    """Two shops (shop1, shop2) of the live sandbox in a PREORDERS_SHOPS file; no Dagster home
    (recording is pipelines.recording's to test)."""
    path = tmp_path / "shops.yaml"
    lines = ["shops:"]
    for name in SHOPS:
        lines += [
            f"  - name: {name}",
            f"    api_key_env: {key_env(name)}",
            f"    base_url: {live.base_url}",
        ]
    path.write_text("\n".join(lines) + "\n")
    return cli_env(tmp_path, PREORDERS_SHOPS=str(path), DAGSTER_HOME="", **keys(live) | env)


def requests(live: sandbox.RunningSandbox) -> list[int]:
    """How many requests each shop has answered so far."""
    return [len(live.shops[name].log) for name in SHOPS]


def assert_no_key(text: str, *secrets: str) -> None:
    """Neither a key nor the first 8 characters of its secret part are in `text`."""
    for key in secrets:
        assert key not in text
        assert key.removeprefix("stoq_api_key_")[:8] not in text


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator:
    """(words, parser) of every command and verb that runs something (a leaf of the tree)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, sub in subs[0].choices.items():
        yield from commands(sub, (*path, name))
    if not subs[0].required and path:  # `actions` lists rows without a verb
        yield path, parser


#: A runnable command line per command (its required arguments filled in).
ARGS = {
    ("offers", "list"): [],
    ("offers", "show"): ["some-offer"],
    ("offers", "enable"): ["some-offer"],
    ("offers", "disable"): ["some-offer"],
    ("offers", "add-variants"): ["some-offer", "1"],
    ("offers", "remove-variants"): ["some-offer", "1"],
    ("help-manifest",): [],
    ("jobs", "poll"): ["http://127.0.0.1:9/jobs/1"],
    ("check",): [],
    ("export",): ["summary"],
    ("release",): ["--dry-run"],
    ("charge",): [],
    ("actions",): [],
    ("actions", "settle"): ["some-key", "--as", "applied", "--reason", "by hand"],
    ("status",): [],
    ("report",): [],
    ("sync",): [],
    ("shops",): [],
}
#: Without --shop these cover every shop; every other command needs one among several.
EVERY_SHOP = {("status",), ("report",), ("sync",), ("shops",)}


def test_every_command_takes_shop() -> None:
    found = {words: p for words, p in commands(build_parser()) if words[0] not in NO_SHOP}
    assert set(found) == set(ARGS), "a new command: give it --shop and a line in ARGS"
    for words, parser in found.items():
        options = {o for a in parser._actions for o in a.option_strings}
        assert "--shop" in options, words
        args = parser.parse_args([*ARGS[words], "--shop", "shop2"])
        assert args.shop == "shop2", words


@pytest.mark.parametrize("words", sorted(set(ARGS) - EVERY_SHOP))
def test_without_shop_among_two_a_command_exits_2_naming_both(
    words, tmp_path, live, monkeypatch, capsys
) -> None:
    for name, value in shops_env(tmp_path, live).items():
        monkeypatch.setenv(name, value)
    before = requests(live)
    assert main([*words, *ARGS[words]]) == 2
    out, err = capsys.readouterr()
    assert "several shops are configured (shop1, shop2): choose one with --shop" in err, err
    assert_no_key(out + err, *keys(live).values())
    assert not (tmp_path / "preorders.duckdb").exists()  # refused before the warehouse
    assert requests(live) == before  # and before any request


@pytest.mark.parametrize("words", sorted(ARGS))
def test_an_unknown_shop_exits_2_naming_the_configured_ones(
    words, tmp_path, live, monkeypatch, capsys
) -> None:
    for name, value in shops_env(tmp_path, live).items():
        monkeypatch.setenv(name, value)
    before = requests(live)
    assert main([*words, *ARGS[words], "--shop", "nope"]) == 2
    out, err = capsys.readouterr()
    assert "no shop named 'nope'; the configured shops are: shop1, shop2" in err, err
    assert not (tmp_path / "preorders.duckdb").exists()
    assert requests(live) == before  # refused before any request


def test_a_bad_shops_file_exits_2_before_any_request(tmp_path, live) -> None:
    env = shops_env(tmp_path, live)
    Path(env["PREORDERS_SHOPS"]).write_text("shops:\n  - name: shop1\n    colour: blue\n")
    before = requests(live)
    for words in (("offers", "list"), ("sync",), ("status",), ("shops",)):
        done = run_cli(env, *words)
        assert done.returncode == 2, (words, done.stderr)
        assert "unknown field 'colour' in a shop" in done.stderr
        assert done.stdout == ""
    assert not (tmp_path / "preorders.duckdb").exists()
    assert requests(live) == before


def test_a_command_uses_the_shop_named(tmp_path, live) -> None:
    env = shops_env(tmp_path, live)
    seen = {}
    for name in SHOPS:
        done = run_cli(env, "offers", "list", "--json", "--shop", name)
        assert done.returncode == 0, done.stderr
        seen[name] = {o["id"] for o in json.loads(done.stdout)}
        assert seen[name] and seen[name] <= set(live.shops[name].offers)
        assert_no_key(done.stdout + done.stderr, *keys(live).values())
    assert not seen["shop1"] & seen["shop2"]


@pytest.fixture(scope="module")
def synced(tmp_path_factory, live) -> tuple[dict[str, str], object]:
    """Both shops synced by one `preorders sync` (no --shop)."""
    tmp_path = tmp_path_factory.mktemp("two_shops")
    env = shops_env(tmp_path, live)
    return env, run_cli(env, "sync", "--full")


def test_sync_without_shop_syncs_every_shop(synced, live) -> None:
    env, done = synced
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("sync (full) of shops shop1, shop2 into ")
    assert [line.split(":")[0] for line in lines[1:]] == ["shop shop1", "shop shop2"]
    assert all("done in" in line and "checks" in line for line in lines[1:])
    assert error_lines(done.stderr) == []
    assert_no_key(done.stdout + done.stderr, *keys(live).values())
    with duckdb.connect(env["PREORDERS_DUCKDB_PATH"], read_only=True) as conn:
        rows = conn.execute("select shop, count(*) from orders group by 1 order by 1").fetchall()
        states = conn.execute("select shop, stream from sync_state order by 1, 2").fetchall()
    assert rows == [(name, len(live.shops[name].orders)) for name in SHOPS]
    assert states == [(s, stream) for s in SHOPS for stream in ("offers", "orders")]


def test_status_shows_every_shop_and_one_with_shop(synced, live) -> None:
    env, _ = synced
    done = run_cli(env, "status")
    assert done.returncode == 0, done.stderr
    sections = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("shop ")]
    assert sections == ["shop1", "shop2"]
    assert done.stdout.count("\n  orders ") == 2
    facts = json.loads(run_cli(env, "status", "--json").stdout)
    assert set(facts["shops"]) == set(SHOPS) and facts["synced"] is True
    for name in SHOPS:
        orders = facts["shops"][name]["streams"]["orders"]
        assert orders["rows"] == len(live.shops[name].orders)
        assert orders["outcome"] == "succeeded"
    one = json.loads(run_cli(env, "status", "--json", "--shop", "shop2").stdout)
    assert list(one["shops"]) == ["shop2"]


def test_shops_lists_each_shops_last_sync_per_stream(synced, live, tmp_path) -> None:
    env, _ = synced
    done = run_cli(env, "shops", "--json")
    assert done.returncode == 0, done.stderr
    listed = {s["name"]: s["last_sync"] for s in json.loads(done.stdout)["shops"]}
    assert set(listed) == set(SHOPS)
    for runs in listed.values():
        assert set(runs) == {"offers", "orders"}
        assert {r["outcome"] for r in runs.values()} == {"succeeded"}
    text = run_cli(env, "shops").stdout.splitlines()
    assert [line.split()[0] for line in text[2:]] == list(SHOPS)
    assert all("orders 20" in line and "succeeded" in line for line in text[2:])
    assert_no_key("\n".join(text), *keys(live).values())
    # A warehouse that does not exist: `never` for each shop, and the file is not made.
    fresh = shops_env(tmp_path, live, PREORDERS_DUCKDB_PATH=str(tmp_path / "no" / "w.duckdb"))
    done = run_cli(fresh, "shops")
    assert done.returncode == 0, done.stderr
    assert [line.split()[-1] for line in done.stdout.splitlines()[2:]] == ["never", "never"]
    assert not (tmp_path / "no").exists()


def test_report_names_each_shop_in_its_next_steps(synced, tmp_path) -> None:
    env, _ = synced
    done = run_cli(env, "report", "--out", str(tmp_path / "all"))
    assert done.returncode == 0, done.stderr
    steps = [line for line in done.stdout.splitlines() if line.startswith("next:")]
    assert any("--shop shop1" in line for line in steps)
    assert any("--shop shop2" in line for line in steps)
    page = (tmp_path / "all" / "backlog.html").read_text()
    assert "shop1" in page and "shop2" in page
    done = run_cli(env, "report", "--shop", "shop2", "--out", str(tmp_path / "two"))
    assert done.returncode == 0, done.stderr
    assert "--shop shop1" not in done.stdout and "--shop shop2" in done.stdout
    assert "shop1" not in (tmp_path / "two" / "backlog.html").read_text()


def test_release_dry_run_plans_only_the_shop_named(synced, live) -> None:
    env, _ = synced
    done = run_cli(env, "release", "--dry-run", "--shop", "shop2")
    assert done.returncode == 0, done.stderr
    with duckdb.connect(env["PREORDERS_DUCKDB_PATH"], read_only=True) as conn:
        shops = conn.execute("select distinct shop from order_actions").fetchall()
    assert shops in ([], [("shop2",)])
    assert_no_key(done.stdout + done.stderr, *keys(live).values())


def test_one_shops_rejected_key_fails_that_shop_only(tmp_path, live) -> None:
    env = shops_env(tmp_path, live, SHOP2_KEY=WRONG_KEY)
    done = run_cli(env, "sync")
    assert done.returncode == 1, done.stdout + done.stderr
    errors = error_lines(done.stderr)
    assert errors == [
        "preorders sync: shop shop2: STOQ rejected the API key (401 Unauthorized): check SHOP2_KEY"
    ]
    assert [line.split(":")[0] for line in done.stdout.splitlines()[1:]] == ["shop shop1"]
    assert_no_key(done.stdout + done.stderr, WRONG_KEY, *keys(live).values())
    with duckdb.connect(env["PREORDERS_DUCKDB_PATH"], read_only=True) as conn:
        committed = conn.execute("select distinct shop from orders").fetchall()
        failed = conn.execute(
            "select shop, stream, outcome, message from sync_runs where outcome = 'failed'"
        ).fetchall()
    assert committed == [("shop1",)]  # the other shop's sync committed
    assert {(shop, outcome) for shop, _, outcome, _ in failed} == {("shop2", "failed")}
    assert_no_key(repr(failed), WRONG_KEY)
    # status shows both: shop1 synced, shop2's failure
    status = run_cli(env, "status")
    assert status.returncode == 0, status.stderr
    assert "sync failed" in status.stdout and "never succeeded" in status.stdout
    assert_no_key(status.stdout + status.stderr, WRONG_KEY, *keys(live).values())
