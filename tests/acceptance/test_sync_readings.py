"""Full then incremental sync under each alternative reading of a [U] item: DuckDB equals truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox import ChaosConfig
from tests.acceptance.support import assert_truth, world

DRIFT = ChaosConfig(new_orders_during_walk=2, drift_every=5)
CHANGES = {"new_orders": 12, "pay_balances": 8, "release": 4, "cancel": 3}

READINGS: dict[str, dict[str, Any]] = {
    "per_page_max_25": {"per_page_max": 25},
    "per_page_max_50": {"per_page_max": 50},
    "per_page_over_max_422": {"per_page_max": 50, "per_page_over_max": "error"},
    "per_page_ignored": {"per_page_ignored": True, "per_page_default": 20},
    "oldest_first": {"order_sort": "oldest_first"},
    "id_asc": {"order_sort": "id_asc"},
    "id_desc": {"order_sort": "id_desc"},
    "meta_count_only": {"meta_style": "count_only"},
    "meta_first_page_only": {"meta_style": "first_page_only"},
    "page_past_end_404": {"page_past_end": "404"},
    "distinct_order_ids": {"order_ids": "distinct"},
    "money_numbers": {"money_format": "number"},
    "offset_timestamps": {"timestamp_format": "offset"},
    "fractional_timestamps": {"timestamp_format": "fractional"},
    "extra_fields_null_customers": {"extra_fields": True, "null_customers": True},
    "date_only_window": {"window_values": "date_only"},
    "exclusive_from": {"from_exclusive": True},
}


@pytest.mark.parametrize("drift", [False, True], ids=["steady", "drift"])
@pytest.mark.parametrize("reading", list(READINGS))
def test_full_then_incremental_sync_equals_truth(tmp_path: Path, reading: str, drift: bool) -> None:
    w = world(tmp_path, chaos=DRIFT if drift else None, **READINGS[reading])
    first = w.sync("full", run_id="full")
    assert first["orders"].complete
    assert_truth(w)
    w.shop.mutate(**CHANGES)
    second = w.sync("incremental", run_id="incr")
    assert second["orders"].mode == "incremental"
    assert second["orders"].complete
    assert_truth(w)
    assert w.log_count(429) == 0
