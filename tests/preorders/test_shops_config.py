"""preorders.shops: the shops file named by PREORDERS_SHOPS, else one `default` shop.

Every bad file is a ConfigurationError naming the file and the shop, before any request, and no
message (nor a shop's repr) ever shows a key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import sandbox
from preorders.settings import NO_KEY, MissingKey
from preorders.shops import (
    DEFAULT_POINTS_PER_WINDOW,
    Shop,
    load_shops,
    pick,
)
from stoq import DEFAULT_BASE_URL
from stoq.errors import ConfigurationError, Unauthorized

KEY_EU = sandbox.DEFAULT_API_KEY  # the sandbox's only key
KEY_US = "stoq_api_key_" + "u" * 32  # a well-formed key the sandbox does not know
LEAK = "stoq_api_key_" + "leak".ljust(32, "9")  # a key put in the file by mistake
EU_URL = "https://eu.example.com/api/v2/external"
SANDBOX_URL = "http://127.0.0.1/api/v2/external"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in (
        "PREORDERS_SHOPS",
        "STOQ_API_KEY",
        "STOQ_BASE_URL",
        "STOQ_MAX_RETRIES",
        "STOQ_REQUEST_DEADLINE_S",
        "STOQ_MAX_BODY_BYTES",
        "STOQ_API_KEY_EU",
        "STOQ_API_KEY_US",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STOQ_API_KEY_EU", KEY_EU)
    monkeypatch.setenv("STOQ_API_KEY_US", KEY_US)


def eu(**fields: Any) -> dict[str, Any]:
    return {"name": "eu", "api_key_env": "STOQ_API_KEY_EU", **fields}


def us(**fields: Any) -> dict[str, Any]:
    return {"name": "us", "api_key_env": "STOQ_API_KEY_US", **fields}


def shops_file(tmp_path: Path, monkeypatch, content: Any) -> Path:
    """Write `content` (text as is, anything else as YAML) and point PREORDERS_SHOPS at it."""
    path = tmp_path / "shops.yaml"
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("PREORDERS_SHOPS", str(path))
    return path


def config_error(path: Path) -> str:
    """The message of the ConfigurationError load_shops raises; it names the file, no key."""
    with pytest.raises(ConfigurationError) as caught:
        load_shops()
    message = str(caught.value)
    assert message.startswith(f"shops file {path} (PREORDERS_SHOPS): "), message
    for secret in (KEY_EU, KEY_US, LEAK):
        assert secret not in message
    return message


def fake_clock_options(sleeps: list[float] | None = None) -> dict[str, Any]:
    clock = sandbox.FakeClock()

    def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)
        clock.sleep(seconds)

    return {"sleep": sleep, "clock": clock.monotonic, "wall_clock": clock.time}


def sandbox_shop() -> sandbox.Shop:
    return sandbox.Shop(sandbox.SandboxConfig(orders=5), clock=sandbox.FakeClock())


# -- without PREORDERS_SHOPS: one `default` shop --------------------------------------------------


def test_default_shop_without_shops_file():
    assert load_shops() == [
        Shop("default", "STOQ_API_KEY", DEFAULT_BASE_URL, DEFAULT_POINTS_PER_WINDOW)
    ]


def test_default_shop_takes_stoq_base_url(monkeypatch):
    monkeypatch.setenv("STOQ_BASE_URL", SANDBOX_URL)
    assert load_shops() == [Shop("default", "STOQ_API_KEY", SANDBOX_URL)]


@pytest.mark.parametrize("value", ["", "   "])
def test_blank_shops_variable_means_the_default_shop(monkeypatch, value):
    monkeypatch.setenv("PREORDERS_SHOPS", value)
    assert [s.name for s in load_shops()] == ["default"]


def test_no_default_file_is_read(tmp_path, monkeypatch):
    (tmp_path / "shops.yaml").write_text("shops: [not: {valid", encoding="utf-8")
    (tmp_path / "shops.yml").write_text("nonsense", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert [s.name for s in load_shops()] == ["default"]


def test_default_shop_key_is_checked_when_a_client_is_built(monkeypatch):
    shops = load_shops()  # no STOQ_API_KEY: loading still succeeds
    with pytest.raises(MissingKey) as caught:
        shops[0].client()
    assert str(caught.value) == NO_KEY


def test_default_shop_client_uses_stoq_api_key(monkeypatch):
    monkeypatch.setenv("STOQ_BASE_URL", SANDBOX_URL)
    monkeypatch.setenv("STOQ_API_KEY", KEY_EU)
    shop = pick(load_shops(), None)
    with shop.client(transport=sandbox.mock_transport(sandbox_shop()), **fake_clock_options()) as c:
        assert c.base_url == SANDBOX_URL
        assert isinstance(c.list_reports(), list)


# -- a valid file -------------------------------------------------------------------------------


def test_two_shop_file(tmp_path, monkeypatch):
    shops_file(
        tmp_path,
        monkeypatch,
        {"shops": [eu(base_url=EU_URL, points_per_window=120), us()]},
    )
    assert load_shops() == [
        Shop("eu", "STOQ_API_KEY_EU", EU_URL, 120),
        Shop("us", "STOQ_API_KEY_US", DEFAULT_BASE_URL, DEFAULT_POINTS_PER_WINDOW),
    ]


def test_shop_without_base_url_takes_stoq_base_url(tmp_path, monkeypatch):
    monkeypatch.setenv("STOQ_BASE_URL", SANDBOX_URL)
    shops_file(tmp_path, monkeypatch, {"shops": [eu(base_url=EU_URL + "/"), us()]})
    assert [s.base_url for s in load_shops()] == [EU_URL, SANDBOX_URL]


def test_file_path_is_expanded_and_stripped(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    shops_file(tmp_path, monkeypatch, {"shops": [eu()]})
    monkeypatch.setenv("PREORDERS_SHOPS", "  ~/shops.yaml  ")
    assert [s.name for s in load_shops()] == ["eu"]


@pytest.mark.parametrize("name", ["a", "a" * 32, "eu_2-b2b", "0"])
def test_names_within_the_rule_are_accepted(tmp_path, monkeypatch, name):
    shops_file(tmp_path, monkeypatch, {"shops": [eu(name=name)]})
    assert [s.name for s in load_shops()] == [name]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/api/v2/external",
        "http://localhost:8000/api/v2/external",
        "http://[::1]:8000/api/v2/external",
        "https://shop.example.com/api",
    ],
)
def test_https_and_loopback_base_urls_are_accepted(tmp_path, monkeypatch, url):
    shops_file(tmp_path, monkeypatch, {"shops": [eu(base_url=url)]})
    assert load_shops()[0].base_url == url


def test_points_per_window_of_two_is_accepted(tmp_path, monkeypatch):
    shops_file(tmp_path, monkeypatch, {"shops": [eu(points_per_window=2)]})
    assert load_shops()[0].points_per_window == 2


# -- the file as a whole ------------------------------------------------------------------------


def test_missing_file(tmp_path, monkeypatch):
    path = tmp_path / "absent.yaml"
    monkeypatch.setenv("PREORDERS_SHOPS", str(path))
    assert config_error(path).endswith(": no such file")


def test_directory_instead_of_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PREORDERS_SHOPS", str(tmp_path))
    assert "cannot be read: IsADirectoryError" in config_error(tmp_path)


def test_file_not_utf8(tmp_path, monkeypatch):
    path = shops_file(tmp_path, monkeypatch, "")
    path.write_bytes(b"shops:\n  - name: \xff\xfe\n")
    assert "cannot be read: UnicodeDecodeError" in config_error(path)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (f"shops: [eu, us\napi_key: {LEAK}\n", "line 2, column 8"),
        (f"shops:\n\t- name: eu  # {LEAK}\n", "line 2, column 1"),
        (f"{LEAK}: : x\n", "line 1, column 48"),
    ],
)
def test_not_yaml_gives_the_place_but_never_the_text(tmp_path, monkeypatch, text, where):
    path = shops_file(tmp_path, monkeypatch, text)
    with pytest.raises(ConfigurationError) as caught:
        load_shops()
    message = str(caught.value)
    assert message.startswith(f"shops file {path} (PREORDERS_SHOPS): not YAML: ")
    assert message.endswith(f" at {where}")
    assert LEAK not in message
    assert "name: eu" not in message and "[eu, us" not in message
    # The yaml error (whose text quotes the line) is not chained for a traceback to show.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


@pytest.mark.parametrize(
    "content",
    [
        "- name: eu\n  api_key_env: STOQ_API_KEY_EU\n",
        "just a string\n",
        "",
        {"shop": [eu()]},
    ],
)
def test_not_a_mapping_with_shops(tmp_path, monkeypatch, content):
    path = shops_file(tmp_path, monkeypatch, content)
    assert config_error(path).endswith(": expected a mapping with a `shops:` list")


@pytest.mark.parametrize("shops", [eu(), "eu", 3, None])
def test_shops_not_a_list(tmp_path, monkeypatch, shops):
    path = shops_file(tmp_path, monkeypatch, {"shops": shops})
    assert config_error(path).endswith(": `shops:` must be a list of shops")


def test_empty_shops_list_says_no_shop(tmp_path, monkeypatch):
    path = shops_file(tmp_path, monkeypatch, {"shops": []})
    assert config_error(path).endswith(": `shops:` lists no shop")


def test_unknown_top_level_field(tmp_path, monkeypatch):
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu()], "region": "emea"})
    message = config_error(path)
    assert "unknown field 'region' at the top level (the file holds only `shops:`)" in message
    assert "the fields are: name, api_key_env, base_url, points_per_window" in message


def test_secret_looking_top_level_field(tmp_path, monkeypatch):
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu()], "api_key": LEAK})
    message = config_error(path)
    assert "unknown field 'api_key' at the top level" in message
    assert "keys never live in the file: use api_key_env" in message


# -- one shop -----------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["eu", ["eu"], 7])
def test_shop_not_a_mapping_named_by_position(tmp_path, monkeypatch, entry):
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu(), entry]})
    message = config_error(path)
    assert message.endswith(
        ": shop #2: expected a mapping of name, api_key_env, base_url, points_per_window"
    )


def test_unknown_field_in_a_shop(tmp_path, monkeypatch):
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu(), us(region="na")]})
    message = config_error(path)
    assert message.endswith(
        ": shop 'us' (#2): unknown field 'region' in a shop;"
        " the fields are: name, api_key_env, base_url, points_per_window"
    )


@pytest.mark.parametrize("field", ["api_key", "API_KEY", "token", "client_secret", "password"])
def test_secret_looking_field_in_a_shop(tmp_path, monkeypatch, field):
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu(**{field: LEAK})]})
    message = config_error(path)  # asserts LEAK is not in it
    assert f"shop 'eu' (#1): unknown field {field!r} in a shop;" in message
    assert message.endswith("keys never live in the file: use api_key_env")


def test_secret_field_in_an_unnamed_shop_named_by_position(tmp_path, monkeypatch):
    path = shops_file(tmp_path, monkeypatch, {"shops": [{"api_key": LEAK}]})
    message = config_error(path)
    assert "shop #1: unknown field 'api_key' in a shop;" in message
    assert "keys never live in the file: use api_key_env" in message


def test_duplicate_name(tmp_path, monkeypatch):
    path = shops_file(
        tmp_path, monkeypatch, {"shops": [eu(), us(), eu(api_key_env="STOQ_API_KEY_US")]}
    )
    assert config_error(path).endswith(": shop 'eu' (#3): duplicate name 'eu'")


@pytest.mark.parametrize(
    "name", ["EU", "", "a" * 33, "eu shop", "e.u", "café", "eu\n", 5, True, ["eu"]]
)
def test_bad_name_named_by_position(tmp_path, monkeypatch, name):
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu(), us(name=name)]})
    message = config_error(path)
    assert message.endswith(f": shop #2: name {name!r} must match [a-z0-9_-]{{1,32}}")


def test_missing_name(tmp_path, monkeypatch):
    path = shops_file(tmp_path, monkeypatch, {"shops": [{"api_key_env": "STOQ_API_KEY_EU"}]})
    assert config_error(path).endswith(": shop #1: no `name`")


def test_missing_api_key_env(tmp_path, monkeypatch):
    path = shops_file(tmp_path, monkeypatch, {"shops": [{"name": "eu"}]})
    assert ": shop 'eu' (#1): no `api_key_env`" in config_error(path)


@pytest.mark.parametrize("value", [LEAK, "stoq_api_key_eu", "1ABC", "STOQ-KEY", 42, ""])
def test_api_key_env_not_a_variable_name_is_never_echoed(tmp_path, monkeypatch, value):
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu(api_key_env=value)]})
    message = config_error(path)  # asserts LEAK is not in it
    assert message.endswith(
        ": shop 'eu' (#1): api_key_env must be the name of an environment variable in capitals,"
        " e.g. STOQ_API_KEY_EU (keys never live in the file: use api_key_env)"
    )
    if value:
        assert repr(value) not in message


@pytest.mark.parametrize("value", [None, "", "   "])
def test_api_key_env_unset_or_empty(tmp_path, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("STOQ_API_KEY_US")
    else:
        monkeypatch.setenv("STOQ_API_KEY_US", value)
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu(), us()]})
    assert config_error(path).endswith(
        ": shop 'us' (#2): api_key_env STOQ_API_KEY_US is not set (or empty);"
        " export the shop's API key in it"
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://eu.example.com/api/v2/external", "sends the API key in clear: use https://"),
        ("http://localhost.:8000/api", "sends the API key in clear: use https://"),
        ("ftp://eu.example.com/api", "must be an http:// or https:// URL with a host"),
        ("eu.example.com/api", "must be an http:// or https:// URL with a host"),
    ],
)
def test_bad_base_url(tmp_path, monkeypatch, url, problem):
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu(), us(base_url=url)]})
    message = config_error(path)
    assert ": shop 'us' (#2): base_url: " in message
    assert problem in message


@pytest.mark.parametrize("url", ["", "   ", 443, ["https://eu.example.com"]])
def test_base_url_not_a_url_string(tmp_path, monkeypatch, url):
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu(base_url=url)]})
    assert config_error(path).endswith(
        ": shop 'eu' (#1): base_url must be a URL, e.g. https://app.stoqapp.com/api/v2/external"
    )


def test_bad_stoq_base_url_for_a_shop_without_base_url(tmp_path, monkeypatch):
    monkeypatch.setenv("STOQ_BASE_URL", "http://eu.example.com/api")
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu(base_url=EU_URL), us()]})
    message = config_error(path)
    assert ": shop 'us' (#2): STOQ_BASE_URL (no base_url given): " in message
    assert "sends the API key in clear" in message


@pytest.mark.parametrize("points", [0, 1, -360, True, False, 150.5, "360", None])
def test_bad_points_per_window(tmp_path, monkeypatch, points):
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu(), us(points_per_window=points)]})
    assert config_error(path).endswith(
        f": shop 'us' (#2): points_per_window must be an integer >= 2 (got {points!r})"
    )


def test_error_comes_before_any_later_shop_is_checked(tmp_path, monkeypatch):
    monkeypatch.delenv("STOQ_API_KEY_US")
    path = shops_file(tmp_path, monkeypatch, {"shops": [eu(points_per_window=1), us()]})
    assert ": shop 'eu' (#1): points_per_window" in config_error(path)


# -- pick ---------------------------------------------------------------------------------------


def two_shops(tmp_path, monkeypatch, **eu_fields: Any) -> list[Shop]:
    monkeypatch.setenv("STOQ_BASE_URL", SANDBOX_URL)
    shops_file(tmp_path, monkeypatch, {"shops": [eu(**eu_fields), us()]})
    return load_shops()


def test_pick_by_name(tmp_path, monkeypatch):
    shops = two_shops(tmp_path, monkeypatch)
    assert pick(shops, "us") is shops[1]
    assert pick(shops, "eu") is shops[0]


def test_pick_unknown_name_names_the_choices(tmp_path, monkeypatch):
    shops = two_shops(tmp_path, monkeypatch)
    with pytest.raises(ConfigurationError) as caught:
        pick(shops, "asia")
    assert str(caught.value) == "no shop named 'asia'; the configured shops are: eu, us"


def test_pick_without_name_needs_a_single_shop(tmp_path, monkeypatch):
    shops = two_shops(tmp_path, monkeypatch)
    with pytest.raises(ConfigurationError) as caught:
        pick(shops, None)
    assert str(caught.value) == "several shops are configured (eu, us): choose one with --shop"
    assert pick(shops[1:], None) is shops[1]


# -- clients ------------------------------------------------------------------------------------


def test_two_shops_build_two_clients_with_their_own_keys(tmp_path, monkeypatch):
    eu_shop, us_shop = two_shops(tmp_path, monkeypatch)
    api = sandbox_shop()
    with eu_shop.client(transport=sandbox.mock_transport(api), **fake_clock_options()) as client:
        assert [o["id"] for o in client.list_orders()]  # the sandbox's key: answered
    us_client = us_shop.client(transport=sandbox.mock_transport(api), **fake_clock_options())
    with us_client, pytest.raises(Unauthorized) as caught:
        us_client.list_reports()  # KEY_US: the sandbox does not know it
    assert KEY_US not in str(caught.value)


def test_each_shop_reads_its_own_variable_when_the_client_is_built(tmp_path, monkeypatch):
    eu_shop, us_shop = two_shops(tmp_path, monkeypatch)
    # Swap the keys after loading: the clients follow the variables, not the file or load time.
    monkeypatch.setenv("STOQ_API_KEY_EU", KEY_US)
    monkeypatch.setenv("STOQ_API_KEY_US", KEY_EU)
    api = sandbox_shop()
    eu_client = eu_shop.client(transport=sandbox.mock_transport(api), **fake_clock_options())
    with eu_client, pytest.raises(Unauthorized):
        eu_client.list_reports()
    with us_shop.client(transport=sandbox.mock_transport(api), **fake_clock_options()) as client:
        assert isinstance(client.list_reports(), list)


def test_client_env_mapping_overrides_the_environment(tmp_path, monkeypatch):
    _, us_shop = two_shops(tmp_path, monkeypatch)
    api = sandbox_shop()
    env = {"STOQ_API_KEY_US": KEY_EU}
    options = fake_clock_options()
    with us_shop.client(env, transport=sandbox.mock_transport(api), **options) as client:
        assert isinstance(client.list_reports(), list)


def test_shop_key_unset_when_the_client_is_built(tmp_path, monkeypatch):
    _, us_shop = two_shops(tmp_path, monkeypatch)
    monkeypatch.delenv("STOQ_API_KEY_US")
    assert not us_shop.key_is_set()
    with pytest.raises(MissingKey) as caught:
        us_shop.client()
    assert str(caught.value) == "STOQ_API_KEY_US is not set; export shop 'us''s API key"


def test_points_per_window_reaches_the_clients_rate_limiter(tmp_path, monkeypatch):
    eu_shop, us_shop = two_shops(tmp_path, monkeypatch, points_per_window=2)
    monkeypatch.setenv("STOQ_API_KEY_US", KEY_EU)  # both shops answered by the sandbox
    api = sandbox_shop()
    eu_sleeps: list[float] = []
    us_sleeps: list[float] = []
    with eu_shop.client(
        transport=sandbox.mock_transport(api), **fake_clock_options(eu_sleeps)
    ) as client:
        assert client.rate_room().limit == 2
        for _ in range(3):
            client.list_reports()  # 1 point each: the third waits for the window
        assert eu_sleeps and sum(eu_sleeps) >= 59
    with us_shop.client(
        transport=sandbox.mock_transport(api), **fake_clock_options(us_sleeps)
    ) as client:
        assert client.rate_room().limit == DEFAULT_POINTS_PER_WINDOW
        for _ in range(3):
            client.list_reports()
        assert us_sleeps == []


# -- the key never shows ------------------------------------------------------------------------


def test_key_never_in_repr(tmp_path, monkeypatch):
    monkeypatch.setenv("STOQ_API_KEY", KEY_EU)
    shops = [*load_shops(), *two_shops(tmp_path, monkeypatch)]
    for shop in shops:
        shown = repr(shop) + str(shop)
        assert KEY_EU not in shown and KEY_US not in shown
        assert shop.api_key() in (KEY_EU, KEY_US)  # the key is there, only never shown
        with shop.client(transport=sandbox.mock_transport(sandbox_shop())) as client:
            assert KEY_EU not in repr(client) and KEY_US not in repr(client)


def test_the_single_shops_name_is_the_warehouses() -> None:
    from preorders import shops
    from warehouse import migrate

    assert shops.DEFAULT_SHOP == migrate.DEFAULT_SHOP  # rows migrated from v1 belong to it
