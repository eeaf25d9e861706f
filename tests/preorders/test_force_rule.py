"""The force/reason rule lives in `preorders.actions.rules.force_reason`; every caller uses it."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from preorders import actions
from preorders.actions import ForceWithoutReason, ReasonWithoutForce, force_reason
from tests.pipelines.test_release_support import make_world


@pytest.mark.parametrize(
    ("force", "reason", "recorded"),
    [(False, None, None), (False, "", None), (False, "   ", None), (True, " VIP ", "VIP")],
)
def test_the_reason_recorded(force, reason, recorded):
    assert force_reason(force, reason) == recorded


@pytest.mark.parametrize("reason", [None, "", "  \t"])
def test_force_needs_a_reason(reason):
    with pytest.raises(ForceWithoutReason, match="force needs a reason"):
        force_reason(True, reason)


def test_a_reason_needs_force():
    with pytest.raises(ReasonWithoutForce, match="a reason only goes with force"):
        force_reason(False, "VIP")
    assert issubclass(ReasonWithoutForce, ValueError) and issubclass(ForceWithoutReason, ValueError)


def test_release_checks_the_rule_before_reading_or_writing(tmp_path):
    world = make_world(tmp_path, orders=20)
    before = len(world.transport.sent)
    with world.client() as client:
        with pytest.raises(ReasonWithoutForce):
            actions.release(client, world.conn, reason="VIP")
        with pytest.raises(ForceWithoutReason):
            actions.release(client, world.conn, force=True, reason=" ")
    assert len(world.transport.sent) == before
    assert world.conn.execute("select count(*) from order_actions").fetchone() == (0,)
    world.close()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--force"], "--force needs --reason TEXT (it is recorded); nothing was sent"),
        (["--force", "--reason", " "], "--force needs --reason TEXT"),
        (["--reason", "VIP"], "--reason only goes with --force; nothing was sent"),
    ],
)
def test_cli_applies_the_rule_before_asking_for_the_key(argv, message, monkeypatch, capsys):
    monkeypatch.delenv("STOQ_API_KEY", raising=False)  # the rule, not the missing key, answers
    assert main(["release", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("preorders release: ") and message in err
    assert "STOQ_API_KEY" not in err
