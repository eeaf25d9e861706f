"""Settling a ledger row by hand: recorded with who and why, never deleted; "not applied" makes
the order eligible again, never twice at once. The migration keeps what older files hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

import warehouse.schema
from preorders import actions
from preorders.actions.operator import ReasonRequired, SettleRefused, settle_by_hand
from preorders.actions.review import entries
from tests.pipelines.test_release_support import SINGLE_RELEASE, make_world
from tests.preorders.ledger_rows import in_running_job, lost_submission, planned
from warehouse import ledger

SINGLES = actions.ActionSettings(bulk_threshold=10_000, stale_after=timedelta(0))


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path, orders=80)
    yield w
    w.close()


def posts(world, order_id: int) -> int:
    return sum(
        1
        for e in world.shop.log
        if e["method"] == "POST" and (m := SINGLE_RELEASE.search(e["path"]))
        and int(m.group(1)) == order_id and 200 <= e["status"] < 300
    )  # fmt: skip


def test_applied_closes_the_row_and_keeps_its_history(world) -> None:
    (item,) = planned(world.conn)
    lost_submission(world.conn, [item])
    done = settle_by_hand(world.conn, item.key, applied=True, reason=" released by hand ", by="ana")
    assert done.line().endswith("as applied by ana: released by hand; closed: no new attempt "
                                "for this version of the order")  # fmt: skip
    (row,) = ledger.rows(world.conn, item.order_id)
    assert (row["status"], row["settled_by"], row["settle_reason"]) == (
        "succeeded", "ana", "released by hand",
    )  # fmt: skip
    assert row["note"].startswith("bulk submission outcome unknown")  # the run's note stays
    assert row["sent_at"] is not None and row["settled_at"] is not None
    assert item.order_id not in {p.order_id for p in actions.plan_release(world.conn)}
    assert entries(world.conn) == []


def test_not_applied_makes_the_order_eligible_at_once_with_a_new_key(world) -> None:
    (item,) = planned(world.conn)
    lost_submission(world.conn, [item])
    assert item.order_id not in {p.order_id for p in actions.plan_release(world.conn)}
    done = settle_by_hand(world.conn, item.key, applied=False, reason="not in STOQ", by="ana")
    assert "the next `preorders release` may send the order again" in done.line()
    # No retry backoff after an operator's verdict, and a new attempt (a new key).
    (again,) = actions.plan_release(world.conn, order_ids=[item.order_id])
    assert again.attempt == 1 and again.key != item.key
    (entry,) = entries(world.conn, ["failed"])
    assert entry.why == "settled not applied by ana: not in STOQ"
    assert entry.unblock == "sent again by the next `preorders release`"


def test_not_applied_does_not_use_up_max_attempts(world) -> None:
    (item,) = planned(world.conn, "charge_balance")  # a charge gets one attempt per version
    lost_submission(world.conn, [item])  # (written as a bulk row; what matters is: unknown)
    settle_by_hand(world.conn, item.key, applied=False, reason="declined at the bank", by="ana")
    (again,) = actions.plan_charges(world.conn, order_ids=[item.order_id])
    assert again.attempt == 1


def test_then_a_release_sends_it_again_exactly_once(world) -> None:
    (item,) = planned(world.conn)
    lost_submission(world.conn, [item])
    with world.client() as client:  # within the hold: read back, still unknown, nothing sent
        held = actions.release(client, world.conn, [item.order_id], settings=SINGLES)
    assert "unknown" in {o.status for o in held} and posts(world, item.order_id) == 0
    settle_by_hand(world.conn, item.key, applied=False, reason="not in STOQ", by="ana")
    with world.client() as client:
        sent = actions.release(client, world.conn, [item.order_id], settings=SINGLES)
        again = actions.release(client, world.conn, [item.order_id], settings=SINGLES)
    assert [o.status for o in sent] == ["succeeded"]
    assert [o.status for o in again] == ["skipped"]
    assert posts(world, item.order_id) == 1
    assert [r["status"] for r in ledger.rows(world.conn, item.order_id)] == ["failed", "succeeded"]


@pytest.mark.parametrize("applied", [True, False])
def test_a_settled_row_cannot_be_settled_again(world, applied) -> None:
    (item,) = planned(world.conn)
    lost_submission(world.conn, [item])
    settle_by_hand(world.conn, item.key, applied=applied, reason="checked", by="ana")
    with pytest.raises(SettleRefused, match=f"{item.key} is already settled .* by ana"):
        settle_by_hand(world.conn, item.key, applied=not applied, reason="again", by="bo")
    (row,) = ledger.rows(world.conn, item.order_id)
    assert (row["settled_by"], row["settle_reason"]) == ("ana", "checked")


def test_refusals_change_nothing(world) -> None:
    conn = world.conn
    done, dry = planned(conn, n=2)
    lost_submission(conn, [done])
    dry_key = ledger.claim(conn, dry, dry_run=True)
    assert dry_key is not None
    with pytest.raises(SettleRefused, match="no ledger row has the key nope"):
        settle_by_hand(conn, "nope", applied=True, reason="x", by="ana")
    with pytest.raises(SettleRefused, match="is a dry-run row"):
        settle_by_hand(conn, dry_key, applied=True, reason="x", by="ana")
    for blank in ("", "   ", None):
        with pytest.raises(ReasonRequired):
            settle_by_hand(conn, done.key, applied=True, reason=blank, by="ana")
    assert {r["status"] for r in ledger.rows(conn) if not r["dry_run"]} == {"unknown"}


def test_not_applied_is_refused_while_the_bulk_job_may_still_act(world) -> None:
    (item,) = planned(world.conn)
    job = in_running_job(world.conn, [item])
    with pytest.raises(SettleRefused, match=f"bulk job {job} carries .* may still act"):
        settle_by_hand(world.conn, item.key, applied=False, reason="x", by="ana")
    settle_by_hand(world.conn, item.key, applied=True, reason="it did", by="ana")  # allowed
    assert ledger.rows(world.conn, item.order_id)[0]["status"] == "succeeded"


def test_not_applied_waits_while_a_sent_row_may_still_be_answered(world) -> None:
    (item,) = planned(world.conn)
    assert ledger.claim(world.conn, item) == item.key
    ledger.mark_sent(world.conn, [item.key])  # a single POST, its run perhaps still waiting
    with pytest.raises(SettleRefused, match="may still await its answer; .* settle it after "):
        settle_by_hand(world.conn, item.key, applied=False, reason="x", by="ana")
    later = datetime.now(UTC) + timedelta(minutes=6)  # past stale_after (5 min)
    settle_by_hand(world.conn, item.key, applied=False, reason="x", by="ana", now=later)
    assert ledger.rows(world.conn, item.order_id)[0]["status"] == "failed"


OLD_ORDER_ACTIONS = """
create table order_actions (
    key varchar primary key, order_id bigint not null, action varchar not null,
    status varchar not null, attempt integer not null default 0,
    forced boolean not null default false, force_reason varchar,
    dry_run boolean not null default false, http_status integer, job_id varchar,
    bulk boolean not null default false, hint varchar, note varchar, dagster_run_id varchar,
    order_fingerprint varchar not null, planned_at timestamptz not null, sent_at timestamptz,
    settled_at timestamptz
)"""


def test_a_warehouse_from_before_gets_the_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    path = str(tmp_path / "old.duckdb")
    with duckdb.connect(path) as old:
        old.execute(OLD_ORDER_ACTIONS)
        old.execute(
            "insert into order_actions (key, order_id, action, status, note, order_fingerprint,"
            " planned_at, sent_at) values ('k1', 7, 'release', 'unknown', 'lost', 'fp', now(),"
            " now())"
        )
    with duckdb.connect(path) as conn:
        warehouse.schema.apply(conn)
        warehouse.schema.apply(conn)  # idempotent
        (row,) = ledger.rows(conn)
        assert (row["key"], row["status"], row["note"]) == ("k1", "unknown", "lost")
        assert row["settled_by"] is None and row["settle_reason"] is None
        settle_by_hand(conn, "k1", applied=True, reason="seen in STOQ", by="ana",
                       now=datetime.now(UTC))  # fmt: skip
        assert ledger.rows(conn)[0]["settled_by"] == "ana"
