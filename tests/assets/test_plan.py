"""plan_reread: the cheapest mix of per-order GETs and one window walk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from preorders.reread import plan_reread

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def days_ago(n: float) -> datetime:
    return T0 - timedelta(days=n)


def test_no_open_orders_walks_only_from_the_floor() -> None:
    known = [days_ago(d) for d in range(100)]
    plan = plan_reread([], known, per_page=10, floor=days_ago(5))
    assert plan.singles == [] and plan.window_from == days_ago(5)
    assert plan.window_orders == 6 and plan.estimated_requests == 1


def test_few_old_stragglers_are_read_one_by_one() -> None:
    known = [days_ago(d) for d in range(1000)]
    opens = [(1, days_ago(900)), (2, days_ago(500)), (3, days_ago(2))]
    plan = plan_reread(opens, known, per_page=100, floor=days_ago(3))
    assert plan.singles == [1, 2] and plan.window_from == days_ago(3)
    assert plan.estimated_requests == 2 + 1


def test_many_old_open_orders_widen_the_window_instead() -> None:
    known = [days_ago(d) for d in range(1000)]
    opens = [(i, days_ago(100 + i)) for i in range(300)]  # 300 open orders, 100-399 days old
    plan = plan_reread(opens, known, per_page=100, floor=days_ago(1))
    assert plan.singles == [] and plan.window_from == days_ago(399)
    assert plan.estimated_requests == 4  # 400 orders in the window, 100 per page


def test_mixed_plan_reads_the_oldest_singly_and_walks_the_rest() -> None:
    known = [days_ago(d) for d in range(1000)]
    opens = [(999, days_ago(990))] + [(i, days_ago(10 + i)) for i in range(150)]
    plan = plan_reread(opens, known, per_page=100, floor=days_ago(1))
    assert plan.singles == [999]
    assert plan.window_from == days_ago(159)
    assert plan.estimated_requests == 1 + 2
    # Never more expensive than any single alternative.
    all_singles = len(opens) + 1
    whole_window = 10
    assert plan.estimated_requests <= min(all_singles, whole_window)


def test_ties_prefer_the_floor() -> None:
    known = [days_ago(d) for d in range(10)]
    plan = plan_reread([(7, days_ago(8))], known, per_page=100, floor=days_ago(1))
    # One page covers everything either way: walking from the floor + 1 GET costs 2, widening 1.
    assert plan.window_from == days_ago(8) and plan.singles == []
    assert plan.estimated_requests == 1
