"""The release sensor's decision, without Dagster: plan, breaker, per-tick cap, busy warehouse."""

from __future__ import annotations

from pathlib import Path

from preorders.actions.policy import ReleasePolicy, plan_tick, read_only
from tests.pipelines.test_release_support import make_world


def test_a_missing_warehouse_is_retried_next_tick(tmp_path: Path) -> None:
    tick = plan_tick(str(tmp_path / "none.duckdb"), ReleasePolicy())
    assert tick.retry and not tick.batch and "run a sync first" in (tick.skip or "")


def test_the_breaker_refuses_and_the_cap_leaves_the_rest_for_later(tmp_path: Path) -> None:
    world = make_world(tmp_path, orders=80)
    world.detach()  # the tick opens the file read-only, as the sensor does
    try:
        full = plan_tick(str(world.path), ReleasePolicy(max_share=1.0, breaker_floor=1000))
        assert len(full.batch) >= 2 and not full.more and full.skip is None
        capped = plan_tick(str(world.path), ReleasePolicy(max_orders_per_tick=1))
        assert [p.order_id for p in capped.batch] == [full.batch[0].order_id] and capped.more
        tripped = plan_tick(str(world.path), ReleasePolicy(max_share=0.0, breaker_floor=1))
        assert not tripped.batch and not tripped.retry
        assert (tripped.skip or "").startswith("circuit breaker")
        with read_only(str(world.path)) as conn:  # the tick wrote nothing
            assert conn.execute("select count(*) from order_actions").fetchone() == (0,)
    finally:
        world.attach()
        world.close()
