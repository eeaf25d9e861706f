"""The ledger as an operator sees it: rows by status with why and what unblocks them, and what a
run that sends nothing says instead of "nothing to do"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from preorders import actions
from preorders.actions import ActionSettings, review
from preorders.actions.explain import at
from tests.pipelines.test_release_support import make_world
from tests.preorders.ledger_rows import in_running_job, lost_submission, planned, settled
from warehouse import ledger


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path, orders=80)
    yield w
    w.close()


def by_key(found: list[review.Entry]) -> dict[str, review.Entry]:
    return {e.key: e for e in found}


def test_each_status_says_why_and_what_unblocks_it(world) -> None:
    conn = world.conn
    lost, running, claimed, refused, failed = planned(conn, n=5)
    sent_at = lost_submission(conn, [lost])
    job = in_running_job(conn, [running])
    assert ledger.claim(conn, claimed) == claimed.key
    settled(conn, refused, "rejected", http_status=409, hint="order is on hold")
    settled(conn, failed, "failed", http_status=503, note="not applied (read back) after 503")
    now = datetime.now(UTC)

    found = by_key(review.entries(conn, settings=ActionSettings(), now=now))

    assert {k: e.status for k, e in found.items()} == {
        lost.key: "unknown", running.key: "sent", claimed.key: "open",
        refused.key: "blocked", failed.key: "failed",
    }  # fmt: skip
    judged = at(sent_at + timedelta(hours=1), now)
    assert found[lost.key].why.startswith("bulk submission outcome unknown")
    assert found[lost.key].unblock == (
        f"judged at {judged} by the next `preorders release`, or "
        f"`preorders actions settle {lost.key} --as applied|not-applied --reason TEXT`"
    )
    assert found[running.key].job_id == job
    assert f"bulk job {job} (running, 40%)" in found[running.key].why
    assert "asks the job" in found[running.key].unblock
    assert "nothing sent yet" in found[claimed.key].why
    assert f"settle {claimed.key} --as not-applied" in found[claimed.key].unblock
    assert found[refused.key].why == "STOQ refused it (409: order is on hold)"
    assert "not sent again until a sync shows the order changed" in found[refused.key].unblock
    assert found[failed.key].why == "failed (503): not applied (read back) after 503"
    retry = at(found[failed.key].sent_at + timedelta(minutes=1), now)  # type: ignore[operator]
    assert f"next try after {retry}" in found[failed.key].unblock
    assert "attempt 2 of 5" in found[failed.key].unblock


def test_a_status_filter_and_dry_runs(world) -> None:
    conn = world.conn
    lost, dry = planned(conn, n=2)
    lost_submission(conn, [lost])
    assert ledger.claim(conn, dry, dry_run=True) is not None  # a dry run's row blocks nothing
    assert [e.key for e in review.entries(conn)] == [lost.key]
    assert review.entries(conn, ["failed", "blocked"]) == []
    assert [e.status for e in review.entries(conn, ["unknown"])] == ["unknown"]
    with pytest.raises(ValueError, match="a status is one of"):
        review.entries(conn, ["settled"])


def test_a_settled_row_shows_only_while_it_holds_its_order_back(world) -> None:
    conn = world.conn
    (item,) = planned(conn)
    settled(conn, item, "rejected", http_status=409, hint="on hold")
    assert [e.status for e in review.entries(conn)] == ["blocked"]
    # A sync shows the order changed (another fingerprint): the refusal is history now.
    conn.execute(
        "update orders set charged_at = charged_at + interval 1 second where id = $id",
        {"id": item.order_id},
    )
    assert review.entries(conn) == []
    assert [r["status"] for r in ledger.rows(conn, item.order_id)] == ["rejected"]  # kept


def test_a_release_that_gave_up_says_to_release_by_hand(world) -> None:
    conn = world.conn
    (item,) = planned(conn)
    settled(conn, item, "failed", note="not applied (read back) after 503")
    (entry,) = review.entries(conn, ["failed"], ActionSettings(max_attempts=1))
    assert entry.unblock.startswith("given up after 1 attempts: release it by hand")


def test_a_run_that_sends_nothing_says_what_waits_and_until_when(world) -> None:
    conn = world.conn
    items = planned(conn, n=len(ledger.releasable(conn)))
    lost, carried = items[:2], items[2:]
    sent_at = lost_submission(conn, lost)
    job = in_running_job(conn, carried)
    # The next sync showed every order released (the job went on): none is releasable now.
    conn.execute("update orders set state = 'released' where list_contains($ids, id)",
                 {"ids": [i.order_id for i in items]})  # fmt: skip
    assert ledger.releasable(conn) == []

    outcomes = actions.release(None, conn, dry_run=True)

    assert list(outcomes) == []
    until = at(sent_at + timedelta(hours=1), datetime.now(UTC))
    assert actions.summary(outcomes) == (
        f"nothing sent: 2 orders wait until {until} (bulk submission outcome unknown); "
        f"{len(carried)} orders wait on bulk job {job} (running, 40%)"
    )


def test_nothing_to_do_only_when_nothing_waits(world) -> None:
    conn = world.conn
    conn.execute("update orders set state = 'released'")
    outcomes = actions.release(None, conn, dry_run=True)
    assert outcomes.waits == () and actions.summary(outcomes) == "nothing to do"
    assert actions.summary([]) == "nothing to do"  # a plain list: no waits to tell


def test_a_run_that_sends_something_still_names_what_waits(world) -> None:
    conn = world.conn
    (lost,) = planned(conn)
    lost_submission(conn, [lost])
    outcomes = actions.release(None, conn, dry_run=True)
    text = actions.summary(outcomes)
    assert text.startswith(f"{len(outcomes) - 1} planned, 1 skipped; 1 order waits until ")
    assert text.endswith("(bulk submission outcome unknown)")


def test_a_bulk_job_in_flight_without_rows_is_named(world) -> None:
    conn = world.conn
    (item,) = planned(conn)
    job = in_running_job(conn, [item])
    ledger.settle(conn, item.key, "succeeded")  # its one row is settled; the job still runs
    assert review.waits(conn, "release") == [f"bulk job {job} in flight (running, 40%)"]
    assert review.waits(conn, "charge_balance") == []


def test_a_held_charge_waits_for_its_hold(world) -> None:
    conn = world.conn
    (item,) = planned(conn, "charge_balance")
    sent = datetime.now(UTC) - timedelta(minutes=10)
    assert ledger.claim(conn, item, now=sent) == item.key
    ledger.mark_sent(conn, [item.key], now=sent)
    ledger.settle(conn, item.key, "unknown", http_status=202, note="accepted, not applied yet")
    settings = ActionSettings(charge_pending_hold=timedelta(minutes=30))
    (entry,) = review.entries(conn, settings=settings)
    assert entry.until == sent + timedelta(minutes=30)
    assert (
        entry.unblock.startswith("judged at ") and "`preorders charge --execute`" in entry.unblock
    )
    assert review.waits(conn, "charge_balance", settings)[0].startswith("1 order waits until ")
