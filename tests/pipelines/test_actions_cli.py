"""`preorders actions` and `actions settle`, and the hold flags of `release` / `charge`, through
main() on a synced DuckDB file (a sandbox served on loopback where a command sends)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

import sandbox
from pipelines.cli import main
from pipelines.commands.actions import STATUSES
from preorders.actions import review
from tests.pipelines.test_release_support import World, applied, make_world
from tests.preorders.ledger_rows import in_running_job, lost_submission, planned, settled
from warehouse import ledger


@pytest.fixture
def world(tmp_path, monkeypatch) -> Iterator[World]:
    """A synced warehouse, detached (the command opens it), in force through the environment."""
    for name in list(os.environ):
        if name.startswith(("STOQ_", "PREORDERS_")):
            monkeypatch.delenv(name)
    w = make_world(tmp_path, orders=60)
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(w.path))
    w.detach()
    yield w
    w.attach()
    w.close()


def write(world: World, fill) -> object:
    """Run `fill(conn)` on the warehouse, then give the file back to the commands."""
    world.attach()
    try:
        return fill(world.conn)
    finally:
        world.detach()


def rows(world: World, order_id: int | None = None) -> list[dict]:
    return write(world, lambda conn: ledger.rows(conn, order_id))  # type: ignore[return-value]


@pytest.fixture
def served(world, monkeypatch) -> Iterator[sandbox.RunningSandbox]:
    """The world's shop on loopback, with its key and URL in the environment."""
    with sandbox.serve(world.shop) as running:
        monkeypatch.setenv("STOQ_API_KEY", sandbox.DEFAULT_API_KEY)
        monkeypatch.setenv("STOQ_BASE_URL", running.base_url)
        yield running


def test_the_command_offers_the_core_statuses() -> None:
    assert STATUSES == review.STATUSES


def test_lists_rows_by_status_with_why_and_what_unblocks_them(world, capsys) -> None:
    def fill(conn):
        lost, running, refused = planned(conn, n=3)
        lost_submission(conn, [lost])
        job = in_running_job(conn, [running])
        settled(conn, refused, "rejected", http_status=409, hint="order is on hold")
        return lost, running, refused, job

    lost, running, refused, job = write(world, fill)  # type: ignore[misc]
    assert main(["actions"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if not line.startswith(" ")] == [
        "sent (1)", "unknown (1)", "blocked (1)"
    ]  # fmt: skip
    at = out.index("unknown (1)")
    assert re.fullmatch(
        rf"  {lost.key}  order {lost.order_id}  release  attempt 0  sent \d\d:\d\d UTC  job -",
        out[at + 1],
    )
    assert out[at + 2].startswith("      why: bulk submission outcome unknown (sent at ")
    assert out[at + 3].startswith("      unblocks: judged at ")
    assert out[at + 3].endswith(
        f"`preorders actions settle {lost.key} --as applied|not-applied --reason TEXT`"
    )
    assert f"job {job}" in out[out.index("sent (1)") + 1]
    assert "why: STOQ refused it (409: order is on hold)" in out[-2]

    assert main(["actions", "--status", "blocked", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["counts"] == {"open": 0, "sent": 0, "unknown": 0, "failed": 0, "blocked": 1}
    (row,) = facts["rows"]["blocked"]
    assert (row["key"], row["ledger_status"], row["order_id"]) == (
        refused.key, "rejected", refused.order_id,
    )  # fmt: skip


def test_an_empty_ledger_says_so(world, capsys) -> None:
    assert main(["actions"]) == 0
    assert capsys.readouterr().out == "no ledger row is open, failed or blocked\n"


def test_a_missing_warehouse_is_refused_and_not_created(world, tmp_path, monkeypatch, capsys):
    db = tmp_path / "nowhere" / "w.duckdb"
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(db))
    for args in (["actions"], ["actions", "settle", "k", "--as", "applied", "--reason", "x"]):
        assert main(args) == 1
        err = capsys.readouterr().err
        assert str(db) in err and "never synced (no such file)" in err
    assert not db.parent.exists()


def test_settle_records_who_and_why_and_refuses_twice(world, capsys) -> None:
    done, other = write(world, lambda conn: planned(conn, n=2))  # type: ignore[misc]
    write(world, lambda conn: lost_submission(conn, [done, other]))
    args = ["actions", "settle", done.key, "--as", "applied", "--reason", "seen in STOQ"]
    assert main([*args, "--by", "ana"]) == 0  # no STOQ_API_KEY needed
    assert capsys.readouterr().out.startswith(f"settled {done.key} (order {done.order_id}, ")
    (row,) = rows(world, done.order_id)
    assert (row["status"], row["settled_by"], row["settle_reason"]) == (
        "succeeded", "ana", "seen in STOQ",
    )  # fmt: skip
    assert main([*args[:4], "not-applied", "--reason", "again"]) == 1
    assert f"{done.key} is already settled (succeeded by ana at " in capsys.readouterr().err
    assert main(["actions", "settle", "nope", "--as", "applied", "--reason", "x"]) == 1
    assert "no ledger row has the key nope" in capsys.readouterr().err
    assert main(["actions", "settle", other.key, "--as", "applied", "--reason", "  "]) == 2
    assert "--reason needs a non-blank TEXT" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:  # --reason is required
        main(["actions", "settle", other.key, "--as", "applied"])
    assert usage.value.code == 2
    with pytest.raises(SystemExit) as usage:
        main(["actions", "settle", other.key, "--as", "maybe", "--reason", "x"])
    assert usage.value.code == 2
    assert rows(world, other.order_id)[0]["status"] == "unknown"  # untouched


def test_settled_not_applied_then_release_sends_it_exactly_once(world, served, capsys) -> None:
    (item,) = write(world, lambda conn: planned(conn))  # type: ignore[misc]
    write(world, lambda conn: lost_submission(conn, [item]))
    order = ["--order", str(item.order_id)]
    assert main(["release", *order]) == 1  # within the hold: unknown, nothing sent
    out = capsys.readouterr().out
    assert "release unknown" in out
    summary = (
        r"1 skipped, 1 unknown; 1 order waits until .+ UTC \(bulk submission outcome unknown\)"
    )
    assert re.fullmatch(summary, out.splitlines()[-1])
    assert applied(served.shop, [])[item.order_id] == 0
    args = ["actions", "settle", item.key, "--as", "not-applied", "--reason", "not in STOQ"]
    assert main(args) == 0
    assert "may send the order again" in capsys.readouterr().out
    assert main(["release", *order]) == 0
    assert f"order {item.order_id}: release succeeded" in capsys.readouterr().out
    assert main(["release", *order]) == 0  # released: not sent again
    assert f"order {item.order_id}: release skipped" in capsys.readouterr().out
    assert applied(served.shop, [])[item.order_id] == 1
    assert [r["status"] for r in rows(world, item.order_id)] == ["failed", "succeeded"]


def test_the_hold_flag_wins_over_the_environment(world, served, monkeypatch, capsys) -> None:
    (item,) = write(world, lambda conn: planned(conn))  # type: ignore[misc]
    write(world, lambda conn: lost_submission(conn, [item], ago=timedelta(minutes=10)))
    order = ["--order", str(item.order_id)]
    monkeypatch.setenv("PREORDERS_UNKNOWN_SUBMISSION_HOLD_S", "300")  # 5 min: it has passed
    assert main(["release", *order, "--unknown-submission-hold", "3600"]) == 1
    assert "release unknown" in capsys.readouterr().out
    monkeypatch.setenv("PREORDERS_UNKNOWN_SUBMISSION_HOLD_S", "3600")
    assert main(["release", *order]) == 1
    assert "release unknown" in capsys.readouterr().out
    assert applied(served.shop, [])[item.order_id] == 0
    monkeypatch.setenv("PREORDERS_UNKNOWN_SUBMISSION_HOLD_S", "300")
    assert main(["release", *order]) == 1  # judged not applied (exit 1), then sent again
    out = capsys.readouterr().out
    assert "release failed" in out and "release succeeded" in out
    assert applied(served.shop, [])[item.order_id] == 1


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["release", "--dry-run"], {"PREORDERS_UNKNOWN_SUBMISSION_HOLD_S": "soon"},
         "PREORDERS_UNKNOWN_SUBMISSION_HOLD_S must be a number of seconds >= 0 (got 'soon')"),
        (["release", "--dry-run", "--unknown-submission-hold", "-5"], {},
         "--unknown-submission-hold must be a number of seconds >= 0 (got -5.0)"),
        (["charge"], {"PREORDERS_CHARGE_PENDING_HOLD_S": "-1"},
         "PREORDERS_CHARGE_PENDING_HOLD_S must be a number of seconds >= 0 (got '-1')"),
        (["charge", "--charge-pending-hold", "nan"], {}, "--charge-pending-hold must be"),
        (["actions"], {"PREORDERS_CHARGE_PENDING_HOLD_S": "x"}, "PREORDERS_CHARGE_PENDING_HOLD_S"),
    ],
)  # fmt: skip
def test_a_bad_hold_is_a_usage_error_naming_it(world, monkeypatch, capsys, args, env, named):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(args) == 2
    captured = capsys.readouterr()
    assert named in captured.err and captured.out == ""


def test_a_good_flag_spares_a_bad_environment_value(world, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PREORDERS_UNKNOWN_SUBMISSION_HOLD_S", "soon")
    assert main(["release", "--dry-run", "--unknown-submission-hold", "0"]) == 0
    assert "planned" in capsys.readouterr().out


def test_release_never_says_nothing_to_do_while_rows_are_open(world, capsys) -> None:
    def fill(conn):
        items = planned(conn, n=len(ledger.releasable(conn)))
        lost_submission(conn, items[:1])
        job = in_running_job(conn, items[1:])
        # The next sync saw them released (the job went on): nothing is releasable now.
        conn.execute("update orders set state = 'released'")
        return len(items) - 1, job

    carried, job = write(world, fill)  # type: ignore[misc]
    assert main(["release", "--dry-run"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("nothing sent: 1 order waits until ")
    assert line.endswith(
        f"(bulk submission outcome unknown); {carried} orders wait on bulk job {job} (running, 40%)"
    )
