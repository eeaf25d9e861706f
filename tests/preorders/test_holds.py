"""The two holds are settings: a flag or run config field, else the environment, else 1 h. After
the hold an unapplied order goes out again, never twice; the sensor policy carries its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from preorders import actions
from preorders.actions import ActionSettings
from preorders.actions.explain import at
from preorders.actions.policy import ReleasePolicy, plan_tick
from stoq.errors import ConfigurationError
from tests.pipelines.test_release_support import applied, make_world
from tests.preorders.ledger_rows import lost_submission, planned
from warehouse import ledger

UNKNOWN = "PREORDERS_UNKNOWN_SUBMISSION_HOLD_S"
CHARGE = "PREORDERS_CHARGE_PENDING_HOLD_S"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    monkeypatch.delenv(UNKNOWN, raising=False)
    monkeypatch.delenv(CHARGE, raising=False)


def test_the_default_is_an_hour_each() -> None:
    settings = ActionSettings.from_env()
    assert settings.unknown_submission_hold == settings.charge_pending_hold == timedelta(hours=1)


def test_the_environment_sets_each_hold(monkeypatch) -> None:
    monkeypatch.setenv(UNKNOWN, "90")
    monkeypatch.setenv(CHARGE, " 0.5 ")
    both = ActionSettings.from_env()
    assert both.unknown_submission_hold == timedelta(seconds=90)
    assert both.charge_pending_hold == timedelta(seconds=0.5)
    assert ActionSettings.from_env("release").unknown_submission_hold == timedelta(seconds=90)


def test_a_flag_wins_and_only_its_own_hold_is_read(monkeypatch) -> None:
    monkeypatch.setenv(UNKNOWN, "not a number")  # never read: the flag wins
    monkeypatch.setenv(CHARGE, "-1")  # never read by a release
    release = ActionSettings.from_env("release", 0, "--unknown-submission-hold", bulk_threshold=3)
    assert release.unknown_submission_hold == timedelta(0) and release.bulk_threshold == 3
    assert release.charge_pending_hold == timedelta(hours=1)


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf", "1e12", "1h"])
@pytest.mark.parametrize(("action", "env"), [("release", UNKNOWN), ("charge_balance", CHARGE)])
def test_a_bad_environment_value_names_the_variable(monkeypatch, value, action, env) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigurationError, match=f"^{env} must be a number of seconds >= 0"):
        ActionSettings.from_env(action)
    with pytest.raises(ConfigurationError, match=env):
        ActionSettings.from_env()  # `preorders actions` reads both


@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf")])
def test_a_bad_flag_names_the_flag(value) -> None:
    with pytest.raises(ConfigurationError, match="^--charge-pending-hold must be"):
        ActionSettings.from_env("charge_balance", value, "--charge-pending-hold")


@pytest.fixture
def lost(tmp_path: Path):
    """A world whose first releasable order was in a bulk submission whose answer was lost."""
    world = make_world(tmp_path, orders=60)
    (item,) = planned(world.conn)
    sent_at = lost_submission(world.conn, [item])
    yield world, item, sent_at
    world.close()


def release_at(world, item, when: datetime) -> list[str]:
    settings = ActionSettings.from_env("release", bulk_threshold=10_000, stale_after=timedelta(0))
    with world.client() as client:
        outcomes = actions.release(client, world.conn, [item.order_id], settings=settings, now=when)
    return [o.status for o in outcomes]


def test_after_a_zero_hold_the_order_goes_out_again_once(lost, monkeypatch) -> None:
    world, item, sent_at = lost
    assert release_at(world, item, sent_at + timedelta(minutes=2)) == ["unknown", "skipped"]
    monkeypatch.setenv(UNKNOWN, "0")
    # Judged not applied, and (the 1 min retry backoff past) sent again in the same run.
    assert release_at(world, item, sent_at + timedelta(minutes=2)) == ["failed", "succeeded"]
    assert release_at(world, item, sent_at + timedelta(minutes=3)) == ["skipped"]
    assert applied(world.shop, world.transport.sent)[item.order_id] == 1
    statuses = [r["status"] for r in ledger.rows(world.conn, item.order_id)]
    assert statuses == ["failed", "succeeded"]


def test_a_short_hold_holds_until_it_ends(lost, monkeypatch) -> None:
    world, item, sent_at = lost
    monkeypatch.setenv(UNKNOWN, "600")
    assert release_at(world, item, sent_at + timedelta(minutes=5)) == ["unknown", "skipped"]
    assert applied(world.shop, world.transport.sent)[item.order_id] == 0
    assert release_at(world, item, sent_at + timedelta(minutes=11)) == ["failed", "succeeded"]
    assert applied(world.shop, world.transport.sent)[item.order_id] == 1


def test_the_sensor_policy_has_the_hold_and_checks_it() -> None:
    assert ReleasePolicy().unknown_submission_hold_s is None  # the run's own (env, else 3600)
    assert ReleasePolicy(unknown_submission_hold_s=0).unknown_submission_hold_s == 0
    with pytest.raises(ValueError, match="unknown_submission_hold_s must be seconds >= 0"):
        ReleasePolicy(unknown_submission_hold_s=-1)


def test_a_tick_with_nothing_to_release_says_what_waits(tmp_path: Path) -> None:
    world = make_world(tmp_path, orders=60)
    items = planned(world.conn, n=len(ledger.releasable(world.conn)))
    sent_at = lost_submission(world.conn, items)
    world.detach()
    try:
        tick = plan_tick(str(world.path), ReleasePolicy(unknown_submission_hold_s=120))
    finally:
        world.attach()
        world.close()
    until = sent_at + timedelta(seconds=120)
    assert not tick.batch and not tick.retry
    assert tick.skip == (
        "nothing to release: no releasable order without a ledger entry; "
        f"{len(items)} orders wait until {at(until, datetime.now(UTC))} "
        "(bulk submission outcome unknown)"
    )
