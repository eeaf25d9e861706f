"""A shop kept in a JSON file (`sandbox.state.SavedShop`): loaded as saved, saved on changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox import BASE_PATH, FakeClock, SandboxConfig
from sandbox.state import SavedShop, StateFileError
from tests.sandbox.conftest import ORIGIN

CONFIG = SandboxConfig(orders=60, rate_limit_points=1_000_000, job_steps=2)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "shop.json"


def reopen(state: Path, config: SandboxConfig | None = None) -> SavedShop:
    shop = SavedShop.open(state, config, clock=FakeClock())
    assert shop.loaded
    return shop


def collected(shop: SavedShop) -> list[int]:
    return sorted(o.id for o in shop.orders if o.state == "balance_collected")


def test_a_new_file_gets_the_seeded_shop_and_a_reload_serves_it_unchanged(state: Path):
    first = SavedShop.open(state, CONFIG, clock=FakeClock())
    assert not first.loaded and state.is_file()
    first.mutate(new_orders=3, pay_balances=4, release=2, cancel=1)
    first.save()

    second = reopen(state)
    assert second.truth_orders() == first.truth_orders()
    assert second.truth_offers() == first.truth_offers()
    assert second.config == first.config
    # The seeded RNG is saved too: what both draw next (ids, picks) is the same.
    assert second.mutate(new_orders=2, pay_balances=2) == first.mutate(new_orders=2, pay_balances=2)
    assert second.truth_orders() == first.truth_orders()


def test_the_file_keeps_the_data_fields_and_the_flags_set_the_serving(state: Path):
    SavedShop.open(state, CONFIG, clock=FakeClock())
    later = reopen(state, SandboxConfig(seed=99, orders=5, offers=3, per_page_max=50))
    assert (later.config.seed, later.config.orders, later.config.offers) == (7, 60, 12)
    assert later.config.per_page_max == 50 and len(later.orders) == 60


def test_a_write_over_the_api_is_saved_before_the_answer(state: Path, make_client):
    shop = SavedShop.open(state, CONFIG, clock=FakeClock())
    order_id = collected(shop)[0]
    answer = make_client(shop).post(f"/preorders/orders/{order_id}/release", json={})
    assert answer.status_code == 202
    assert reopen(state).orders.by_id[order_id].state == "released"


def test_a_bulk_job_is_saved_as_its_polls_apply_it(state: Path, make_client):
    shop = SavedShop.open(state, CONFIG, clock=FakeClock())
    api = make_client(shop)
    ids = collected(shop)
    job = api.post("/preorders/orders/bulk_release", json={"order_ids": ids}).json()
    assert {reopen(state).orders.by_id[i].state for i in ids} == {"balance_collected"}
    while api.get(job["status_url"].removeprefix(BASE_PATH)).json()["status"] != "completed":
        pass
    assert {reopen(state).orders.by_id[i].state for i in ids} == {"released"}


def test_reads_do_not_write_and_control_requests_do(state: Path, make_client):
    shop = SavedShop.open(state, CONFIG, clock=FakeClock())
    state.unlink()
    assert make_client(shop).get("/preorders/orders").status_code == 200
    assert not state.exists()
    answer = make_client(shop).post(f"{ORIGIN}/_sandbox/mutate", json={"release": 2})
    assert answer.status_code == 200 and state.is_file()
    released = answer.json()["release"]
    assert {reopen(state).orders.by_id[i].state for i in released} == {"released"}


def test_with_drift_on_a_list_read_is_saved(state: Path, make_client):
    drifting = SandboxConfig(orders=20, rate_limit_points=1_000_000)
    shop = SavedShop.open(state, drifting, clock=FakeClock())
    shop.set_chaos(new_orders_during_walk=2)
    assert make_client(shop).get("/preorders/orders").status_code == 200
    assert len(reopen(state).orders) == 22


@pytest.mark.parametrize(
    "text", ["not json", json.dumps({"format": "other"}), json.dumps({"format": "x", "orders": 1})]
)
def test_a_file_that_is_not_a_shop_state_is_refused(state: Path, text: str):
    state.write_text(text)
    with pytest.raises(StateFileError, match=str(state)):
        SavedShop.open(state)


def test_a_damaged_shop_state_is_refused(state: Path):
    SavedShop.open(state, CONFIG, clock=FakeClock())
    data = json.loads(state.read_text())
    del data["orders"][0]["line_items"]
    state.write_text(json.dumps(data))
    with pytest.raises(StateFileError, match="damaged"):
        SavedShop.open(state)
