"""Several shops on one server: each key reaches its own data, jobs and rate window."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from contextlib import closing

import httpx
import pytest

from pipelines.commands import sandbox as command
from sandbox import (
    BASE_PATH,
    DEFAULT_API_KEY,
    FakeClock,
    SandboxConfig,
    Shop,
    Shops,
    mock_transport,
    serve,
    shop_key,
    shop_keys,
)

ORIGIN = "http://sandbox.test"
WRONG_KEY = "stoq_api_key_" + "wrong".ljust(32, "0")


def ids(orders: list[dict]) -> list[int]:
    return [o["id"] for o in orders]


def client_for(base_url: str, key: str, transport: httpx.BaseTransport | None = None):
    return httpx.Client(
        base_url=base_url, headers={"X-Auth-Token": key}, transport=transport, timeout=10
    )


def test_keys_keep_shop_one_and_look_like_stoq_keys():
    keys = shop_keys(25)
    assert keys[0] == DEFAULT_API_KEY == shop_key(1)
    assert len(set(keys)) == 25  # shop 2 and shop 20 differ too
    assert all(k.startswith("stoq_api_key_") and len(k) == len(DEFAULT_API_KEY) for k in keys)
    assert shop_key(2) == "stoq_api_key_sandboxshop002" + "0" * 18
    with pytest.raises(ValueError):
        shop_key(0)


def test_shop_one_is_the_single_shop_sandbox():
    config = SandboxConfig(orders=60)
    shops = Shops.seeded(3, config, clock=FakeClock())
    alone = Shop(config, clock=FakeClock())
    assert shops["shop1"].config == config
    assert shops["shop1"].truth_orders() == alone.truth_orders()
    assert [s.config.seed for _, s in shops] == [7, 8, 9]
    assert [shops.key(name) for name, _ in shops] == shop_keys(3)


@pytest.fixture(scope="module")
def running():
    """Three shops on one loopback port; a 20-point window so a burst is quick."""
    shops = Shops.seeded(3, SandboxConfig(orders=40, rate_limit_points=20))
    with serve(shops) as sandbox:
        yield sandbox


def test_each_key_sees_its_own_shop_over_the_socket(running):
    seen = {}
    for name, shop in running.shops:
        with client_for(running.base_url, running.shops.key(name)) as c:
            body = c.get("/preorders/orders", params={"per_page": 100}).json()
        assert ids(body["orders"]) == ids(shop.truth_orders())
        seen[name] = set(ids(body["orders"]))
    assert seen["shop1"] != seen["shop2"] != seen["shop3"] != seen["shop1"]
    with client_for(running.base_url, WRONG_KEY) as c:
        r = c.get("/preorders/orders")
    assert r.status_code == 401 and r.json() == {"errors": ["Unauthorized"]}


def test_a_write_with_one_key_changes_only_that_shop(running):
    two, one = running.shops["shop2"], running.shops["shop1"]
    before = one.truth_orders()
    order = next(o for o in two.orders if o.state == "balance_collected")
    with client_for(running.base_url, running.shops.key("shop2")) as c:
        assert c.post(f"/preorders/orders/{order.id}/release").status_code == 202
    assert two.orders.get(order.id).state == "released"
    assert one.truth_orders() == before


def test_a_429_burst_on_one_key_leaves_another_budget_whole(running):
    with client_for(running.base_url, running.shops.key("shop3")) as c:
        statuses = [c.get("/help").status_code for _ in range(25)]
    assert statuses.count(429) >= 5
    with client_for(running.base_url, running.shops.key("shop1")) as c:
        r = c.get("/help")
    assert r.status_code == 200
    # shop1's window holds earlier tests' requests; none of shop3's 25.
    spent = sum(1 for e in running.shops["shop1"].log if e["status"] != 401)
    assert int(r.headers["X-RateLimit-Remaining"]) == 20 - spent


def test_an_export_downloads_from_the_shop_that_made_it(running):
    with client_for(running.base_url, running.shops.key("shop2")) as c:
        handle = c.post("/preorders/reports/summary/export", json={}).json()
        for _ in range(4):
            status = c.get(running.url + handle["status_url"]).json()
    assert status["status"] == "ready"
    assert httpx.get(status["download_url"]).text.startswith("orders,customers,units,revenue")
    assert not running.shops["shop1"].downloads


def test_same_ids_gives_every_shop_the_same_order_ids_and_its_own_records():
    config = SandboxConfig(orders=50)
    shared = Shops.seeded(2, config, clock=FakeClock(), same_ids=True)
    one, two = shared["shop1"].truth_orders(), shared["shop2"].truth_orders()
    assert ids(one) == ids(two)
    assert [o["customer"] for o in one] != [o["customer"] for o in two]
    apart = Shops.seeded(2, config, clock=FakeClock())
    assert set(ids(apart["shop1"].truth_orders())) != set(ids(apart["shop2"].truth_orders()))


def test_the_in_process_transport_routes_by_key_and_by_control_path():
    shops = Shops.seeded(2, SandboxConfig(orders=30), clock=FakeClock(), same_ids=True)
    transport = mock_transport(shops)
    totals = {}
    for name, shop in shops:
        with client_for(ORIGIN + BASE_PATH, shops.key(name), transport) as c:
            totals[name] = c.get("/preorders/orders", params={"per_page": 100}).json()
        assert totals[name]["orders"] == shop.truth_orders()
    assert totals["shop1"] != totals["shop2"]
    with httpx.Client(base_url=ORIGIN, transport=transport) as c:
        truth = c.get("/_sandbox/shops/shop2/truth/orders").json()["orders"]
        assert truth == shops["shop2"].truth_orders()
        assert c.get("/_sandbox/truth/orders").json()["orders"] == shops["shop1"].truth_orders()
        listed = c.get("/_sandbox/shops").json()["shops"]
        assert [s["name"] for s in listed] == ["shop1", "shop2"]
        assert c.get("/_sandbox/shops/shop9/truth/orders").status_code == 404
        assert c.get(BASE_PATH + "/help", headers={"X-Auth-Token": WRONG_KEY}).status_code == 401


def test_two_shops_may_not_share_a_key():
    config = SandboxConfig(orders=5)
    with pytest.raises(ValueError, match="key already belongs"):
        Shops({"a": Shop(config), "b": Shop(config)})


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["sandbox", *argv])


def test_the_banner_lists_each_shop_and_a_shops_file():
    shops = Shops.seeded(2, SandboxConfig(orders=10), clock=FakeClock())
    text = "\n".join(command.banner(shops, "http://127.0.0.1:8765" + BASE_PATH))
    for key in shop_keys(2):
        assert key in text
    assert "  - name: shop2\n    api_key_env: STOQ_API_KEY_SHOP2\n" in text
    assert text.count("base_url: http://127.0.0.1:8765/api/v2/external") == 2
    assert f"export STOQ_API_KEY_SHOP2={shop_key(2)}" in text
    one = command.banner(Shops.seeded(1, SandboxConfig(orders=10)), "http://h:1" + BASE_PATH)
    assert one[-1] == f"API key:  {DEFAULT_API_KEY}" and "shops:" not in one


def test_shops_out_of_range_is_a_usage_error(capsys):
    assert command.run(parse("--shops", "0")) == 2
    assert "--shops 0" in capsys.readouterr().err


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_cli_serves_two_shops_and_prints_their_keys_and_url(tmp_path):
    """`preorders sandbox --shops 2 --state FILE`: both keys work at the printed URL, each shop
    kept in its own file."""
    port = free_port()
    state = tmp_path / "shop.json"
    argv = ["sandbox", "--shops", "2", "--orders", "20", "--port", str(port), "--state", str(state)]
    code = "import sys; from pipelines.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        lines = []
        for line in child.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("control:"):
                break
        text = "\n".join(lines)
        base_url = f"http://127.0.0.1:{port}{BASE_PATH}"
        assert f"base URL: {base_url}" in text
        keys = {n: shop_key(k) for k, n in ((1, "shop1"), (2, "shop2"))}
        assert all(f"shop:     {n}  key {key}" in text for n, key in keys.items())
        assert state.exists() and (tmp_path / "shop-shop2.json").exists()
        seen = []
        for key in keys.values():
            for _ in range(100):  # uvicorn binds just after the banner
                try:
                    r = httpx.get(base_url + "/preorders/orders", headers={"X-Auth-Token": key})
                    break
                except httpx.ConnectError:
                    child.poll()
                    assert child.returncode is None
                    time.sleep(0.05)
            assert r.status_code == 200 and r.json()["meta"]["total_count"] == 20
            seen.append(ids(r.json()["orders"]))
        assert seen[0] != seen[1]
    finally:
        child.terminate()
        child.wait(10)
