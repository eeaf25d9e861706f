"""No 8-character piece of the key reaches the terminal, sync_runs or the Dagster home."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import sandbox
from stoq.redact import PIECE, PUBLIC_PREFIX
from tests.hostile import Answer, Exchange, HostileServer
from tests.pipelines.cli_helpers import cli_env, run_cli

CANARY = PUBLIC_PREFIX + "CANARYq7Zx2LmN9pRt4VwY8bKd3HsF6j"


def pieces(key: str) -> set[str]:
    """Every 8-character run of the key's secret part."""
    secret = key.removeprefix(PUBLIC_PREFIX)
    return {secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1)}


def echo_key(ex: Exchange) -> Answer | None:
    """A 500 whose plain-text body is 175 dots then the key: a cut at 200 keeps a piece of it."""
    if ex.path == "/preorders/orders":
        body = ("." * 175 + "token=" + ex.headers.get("x-auth-token", "")).encode()
        return Answer(500, body, {"Content-Type": "text/plain"})
    return None


def leaks(text: str) -> set[str]:
    return {p for p in pieces(CANARY) if p in text}


def test_a_key_echoing_error_leaves_no_piece_of_the_key_anywhere(tmp_path: Path) -> None:
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=150, api_keys=(CANARY,)))
    db = tmp_path / "w.duckdb"
    env = cli_env(
        tmp_path,
        STOQ_API_KEY=CANARY,
        STOQ_MAX_RETRIES="0",
        PREORDERS_DUCKDB_PATH=str(db),
    )
    with HostileServer(shop, echo_key) as server:
        done = run_cli(env | {"STOQ_BASE_URL": server.base_url}, "sync")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "500" in done.stderr
    assert leaks(done.stdout + done.stderr) == set()
    with duckdb.connect(str(db)) as conn:
        messages = conn.execute("select coalesce(message, '') from sync_runs").fetchall()
    assert any("500" in m for (m,) in messages), messages  # the failure was recorded...
    assert leaks(" ".join(m for (m,) in messages)) == set()  # ...without the key
    home = Path(env["DAGSTER_HOME"])
    stored = [p for p in home.rglob("*") if p.is_file()]
    assert stored, "the Dagster home recorded the failed sync"
    texts = {p: p.read_bytes().decode("utf-8", "replace") for p in stored}
    assert any("token=" in t for t in texts.values()), "the failed check holds the error text"
    for path, text in texts.items():  # event log, run storage, compute logs, whatever the format
        assert leaks(text) == set(), path


def test_scrubbed_blanks_every_shops_key_from_what_leaves_the_block() -> None:
    from preorders.scrubbing import scrubbed

    other = PUBLIC_PREFIX + "OTHERk3Jd8sPq2LmX7vB4nR6tY9wZ1cF"
    with pytest.raises(ValueError) as raised, scrubbed([CANARY, other, ""]) as redact:
        assert leaks(redact(CANARY)) == set() and other not in redact(f"x{other}x")
        raise ValueError(f"{CANARY} and {other[:-3]}")
    assert leaks(str(raised.value)) == set()
    assert other[len(PUBLIC_PREFIX) :][:8] not in str(raised.value)
    with scrubbed([]) as redact:
        assert redact(CANARY) == CANARY  # no key: nothing to blank
