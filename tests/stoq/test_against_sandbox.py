"""The client against the in-process sandbox: every endpoint once, and a 20k-order chaos walk."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import sandbox
from stoq import StoqClient, errors

BASE_URL = "http://sandbox.test" + sandbox.BASE_PATH


def connect(shop: sandbox.Shop, clock: sandbox.FakeClock, **options) -> StoqClient:
    return StoqClient(
        sandbox.DEFAULT_API_KEY,
        BASE_URL,
        transport=sandbox.mock_transport(shop),
        sleep=clock.sleep,
        clock=clock.monotonic,
        wall_clock=clock.time,
        **options,
    )


@pytest.fixture
def shop_and_client() -> Iterator[tuple[sandbox.Shop, StoqClient]]:
    clock = sandbox.FakeClock()
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=300, job_steps=3), clock=clock)
    with connect(shop, clock) as client:
        yield shop, client


def test_every_endpoint_once(shop_and_client):
    shop, client = shop_and_client
    assert client.help(prefix="/preorders/orders")["actions"]

    offers = client.list_offers().all()
    assert [o["id"] for o in offers] == [o["id"] for o in shop.truth_offers()][: len(offers)]
    enabled = client.list_offers(status="enabled").all()
    assert enabled and all(o["status"] == "enabled" for o in enabled)
    offer = client.get_offer(enabled[0]["id"])
    assert "capabilities" in offer
    assert client.disable_offer(offer["id"])["status"] == "disabled"
    assert client.enable_offer(offer["id"])["status"] == "enabled"

    variants = client.list_product_variants(offer_id=offer["id"]).all()
    variant_id = variants[0]["shopify_variant_id"]
    assert client.get_product_variant(variant_id)["shopify_variant_id"] == variant_id
    assert [v["shopify_variant_id"] for v in client.list_product_variants(
        variant_ids=[variant_id]).all()] == [variant_id]  # fmt: skip
    two = sorted(v["shopify_variant_id"] for v in variants[:2])
    assert len(two) == 2  # the sandbox takes the variant_ids[] array form
    assert sorted(v["shopify_variant_id"] for v in client.list_product_variants(
        variant_ids=two).all()) == two  # fmt: skip
    removed = client.remove_variants(offer["id"], [variant_id])
    assert variant_id not in removed["shopify_variant_ids"]
    added = client.add_variants(offer["id"], [variant_id])
    assert variant_id in added["shopify_variant_ids"]

    awaiting = client.list_orders(state="awaiting_balance", offer_id=offer["id"]).all()
    assert awaiting and all(o["state"] == "awaiting_balance" for o in awaiting)
    order_id = awaiting[0]["shopify_order_id"]
    assert client.get_order(order_id)["id"] == order_id
    with pytest.raises(errors.Conflict) as info:
        client.release_order(order_id)
    assert "force" in info.value.hint
    assert client.charge_balance(order_id)["state"] == "balance_collected"
    assert client.release_order(order_id)["state"] == "released"
    forced = next(o for o in awaiting[1:] if o["state"] == "awaiting_balance")
    assert client.release_order(forced["shopify_order_id"], force=True)["state"] == "released"

    window = client.list_orders(from_="2020-01-01T00:00:00Z", to="2100-01-01").all()
    assert len(window) == 300

    placed = [o["shopify_order_id"] for o in client.list_orders(state="balance_collected")]
    handle = client.bulk_release(placed[:5])
    assert handle.item_count == 5
    done = client.wait_for_job(handle, initial_interval=0.5)
    assert (done.status, done.processed) == ("completed", 5)
    assert all(client.get_order(i)["state"] == "released" for i in placed[:5])

    variant_job = client.bulk_variant_action("bulk_recalculate_preorder_counts")
    assert client.wait_for_job(variant_job).status == "completed"

    reports = client.list_reports()
    assert "summary" in {r["name"] for r in reports}
    assert isinstance(client.get_report("summary", from_="2020-01-01", to="2100-01-01"), dict)
    export = client.start_export("summary")
    ready = client.wait_for_job(export)
    assert ready.status == "ready"
    assert ready.download_url is not None and ready.download_url.startswith("http")

    with pytest.raises(errors.JobNotFound):
        client.job_status(handle.status_url.replace(handle.job_id, "bulk_orders_release_0"))
    assert client.stats.snapshot().rate_limited == 0


def test_unknown_key_is_unauthorized():
    clock = sandbox.FakeClock()
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=5), clock=clock)
    transport = sandbox.mock_transport(shop)
    client = StoqClient("stoq_api_key_wrong", BASE_URL, transport=transport)
    with client, pytest.raises(errors.Unauthorized) as info:
        client.help()
    assert "stoq_api_key_wrong" not in str(info.value)


def test_chaos_walk_returns_every_order_exactly_once():
    clock = sandbox.FakeClock()
    chaos = sandbox.ChaosConfig(error_5xx=0.05, burst_429=0.05, drop=0.02, truncate=0.01)
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=20_000, chaos=chaos), clock=clock)
    truth = [o["shopify_order_id"] for o in shop.truth_orders()]
    with connect(shop, clock) as client:
        walk = client.list_orders()
        seen = [o["shopify_order_id"] for o in walk]
        stats = client.stats.snapshot()
    assert len(seen) == len(set(seen)) == 20_000
    assert set(seen) == set(truth)
    assert walk.stats.pages == walk.stats.total_pages == 200
    assert walk.stats.drift is False
    # The chaos really happened and was absorbed.
    assert stats.server_errors > 0
    assert stats.rate_limited > 0
    assert stats.transport_errors > 0
    assert stats.bad_bodies > 0


def test_walk_under_drift_extends_and_reports_it():
    clock = sandbox.FakeClock()
    chaos = sandbox.ChaosConfig(new_orders_during_walk=7, drift_every=3)
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=1_000, chaos=chaos), clock=clock)
    before = {o["shopify_order_id"] for o in shop.truth_orders()}
    with connect(shop, clock, concurrency=1) as client:
        walk = client.list_orders()
        seen = [o["shopify_order_id"] for o in walk]
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    assert walk.stats.drift is True
    assert walk.stats.duplicates > 0
    assert walk.stats.total_count_end > walk.stats.total_count_start
