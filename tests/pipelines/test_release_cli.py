"""`preorders release` / `charge` tell cron the truth through their exit code."""

from __future__ import annotations

from pipelines.cli import main
from tests.pipelines.test_release_support import make_world

KEY = "stoq_api_key_" + "k" * 32


def test_orders_that_could_not_be_reread_exit_1_and_stay_eligible(tmp_path, monkeypatch, capsys):
    world = make_world(tmp_path, orders=60)
    world.detach()
    monkeypatch.setenv("STOQ_API_KEY", KEY)
    monkeypatch.setenv("STOQ_BASE_URL", "http://127.0.0.1:9/api/v2/external")  # nobody there
    monkeypatch.setenv("STOQ_MAX_RETRIES", "0")
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(world.path))
    assert main(["release", "--limit", "2"]) == 1
    out = capsys.readouterr().out
    assert out.count("release not_sent") == 2 and KEY not in out
    world.attach()
    try:  # the claims were given back: both orders are still planned by the next run
        from preorders import actions

        assert len(actions.plan_release(world.conn, limit=2)) == 2
    finally:
        world.close()
