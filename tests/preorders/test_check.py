"""preorders.check: one result per check, in order, ending at the first failure; exit 0/1/2.

Against the sandbox over a real loopback socket (a MockTransport only where a server must send
no rate-limit headers); the configuration comes from the environment, as in the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

import sandbox
from preorders.check import Check, checks, exit_code, run_checks
from preorders.settings import client_from_env
from preorders.shops import Shop
from stoq import DEFAULT_BASE_URL, StoqClient
from stoq.contract import CALLS
from tests.pipelines.cli_helpers import free_port

ALL = ["base_url", "warehouse", "key", "request", "rate_limit", "help", "contract"]
WRONG_KEY = "stoq_api_key_" + "Zq9w" * 8
VARIABLES = ("STOQ_API_KEY", "STOQ_BASE_URL", "STOQ_MAX_RETRIES", "PREORDERS_DUCKDB_PATH")


@pytest.fixture(scope="module")
def live() -> Iterator[sandbox.RunningSandbox]:
    with sandbox.serve(sandbox.SandboxConfig(orders=5)) as server:
        yield server


@pytest.fixture
def env(monkeypatch, tmp_path, live) -> pytest.MonkeyPatch:
    """A working setup: the sandbox's URL and key, a warehouse path in tmp_path."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STOQ_BASE_URL", live.base_url)
    monkeypatch.setenv("STOQ_API_KEY", sandbox.DEFAULT_API_KEY)
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    return monkeypatch


def never() -> StoqClient:
    raise AssertionError("an offline check failed: no client may be built")


def text(results: list[Check]) -> str:
    return "\n".join(r.line for r in results)


def assert_no_piece_of(key: str, output: str) -> None:
    assert all(key[i : i + 8] not in output for i in range(len(key) - 7)), output


def test_a_working_setup_passes_every_check_in_order(env, live, tmp_path):
    results = run_checks(client_from_env)
    assert [r.name for r in results] == ALL
    assert all(r.ok for r in results), text(results)
    assert exit_code(results) == 0
    lines = {r.name: r.line for r in results}
    assert lines["base_url"] == (
        f"base URL: {live.base_url} (STOQ_BASE_URL); plain http to a loopback host"
    )
    assert str(tmp_path / "w.duckdb") in lines["warehouse"]
    assert "(PREORDERS_DUCKDB_PATH); not created yet" in lines["warehouse"]
    assert lines["key"] == "API key: STOQ_API_KEY is set (its value is never shown)"
    assert lines["request"].endswith("answered; 12 offer(s) in the shop")  # the sandbox's offers
    assert "X-RateLimit-Limit 360, X-RateLimit-Remaining " in lines["rate_limit"]
    assert "X-RateLimit-Reset " in lines["rate_limit"]
    with StoqClient(sandbox.DEFAULT_API_KEY, live.base_url) as client:
        listed = len(client.help(prefix="/preorders")["actions"])
    assert listed > 10
    assert lines["help"] == f"/help: reachable; {listed} actions under /preorders"
    assert lines["contract"] == f"contract: matches the client ({len(CALLS)} actions)"
    assert_no_piece_of(sandbox.DEFAULT_API_KEY, text(results))


def test_an_existing_warehouse_file_is_named_with_its_size(env, tmp_path):
    (tmp_path / "w.duckdb").write_bytes(b"\0" * 3 * 2**20)
    results = run_checks(client_from_env)
    assert results[1].ok
    assert results[1].line.endswith("(PREORDERS_DUCKDB_PATH); exists, 3.0 MiB")
    assert exit_code(results) == 0


def test_a_warehouse_path_that_is_a_directory_fails_there(env, tmp_path):
    (tmp_path / "w.duckdb").mkdir()
    results = run_checks(never)
    assert [(r.name, r.ok) for r in results] == [("base_url", True), ("warehouse", False)]
    assert results[-1].line.endswith("exists but is not a file")
    assert exit_code(results) == 1


def test_defaults_are_named_and_a_missing_key_is_a_usage_error(env, tmp_path):
    env.delenv("STOQ_BASE_URL")
    env.delenv("PREORDERS_DUCKDB_PATH")
    env.delenv("STOQ_API_KEY")
    env.chdir(tmp_path)  # the default warehouse path is relative: data/ here, not the repo's
    results = run_checks(never)
    assert [(r.name, r.ok) for r in results] == [
        ("base_url", True),
        ("warehouse", True),
        ("key", False),
    ]
    assert results[0].line == f"base URL: {DEFAULT_BASE_URL} (default); https"
    assert results[1].line == (
        f"warehouse: {tmp_path / 'data' / 'preorders.duckdb'} (default DuckDB path); "
        "not created yet (the first sync creates it)"
    )
    assert results[2].line == "API key: STOQ_API_KEY is not set; export your shop's API key"
    assert exit_code(results) == 2


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://stoq.example/api/v2/external", "sends the API key in clear"),
        ("app.stoqapp.com/api/v2/external", "must be an http:// or https:// URL with a host"),
    ],
)
def test_an_unusable_base_url_is_a_usage_error_and_nothing_else_runs(env, url, says):
    env.setenv("STOQ_BASE_URL", url)
    results = run_checks(never)
    assert [(r.name, r.ok) for r in results] == [("base_url", False)]
    assert results[0].line.startswith("base URL (STOQ_BASE_URL): ")
    assert says in results[0].line
    assert exit_code(results) == 2


def test_a_base_url_with_a_password_never_shows_it(env):
    env.setenv("STOQ_BASE_URL", f"https://user:hunter22secret@127.0.0.1:{free_port()}/api")
    env.setenv("STOQ_MAX_RETRIES", "0")
    results = run_checks(client_from_env)
    assert results[0].line.startswith("base URL: https://<redacted>@127.0.0.1:")
    assert results[-1].name == "request"
    assert "hunter22secret" not in text(results)


def test_a_wrong_key_fails_at_the_request_and_is_never_shown(env, live):
    env.setenv("STOQ_API_KEY", WRONG_KEY)
    clients: list[StoqClient] = []

    def make() -> StoqClient:
        clients.append(client_from_env())
        return clients[-1]

    results = run_checks(make)
    assert [r.name for r in results] == ALL[:4]
    assert [r.ok for r in results] == [True, True, True, False]
    assert results[-1].line == (
        "request: STOQ rejected the API key (GET /preorders/offers -> 401: Unauthorized)"
    )
    assert exit_code(results) == 1
    assert_no_piece_of(WRONG_KEY, text(results))
    # The client saw the 401's rate-limit headers too (the check stops before showing them).
    assert set(clients[0].rate_limit_headers) == {
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
    }


def test_a_wrong_base_path_fails_at_the_request_naming_stoq_base_url(env, live):
    env.setenv("STOQ_BASE_URL", live.base_url.replace("/api/v2/external", "/api/v1"))
    results = run_checks(client_from_env)
    assert [(r.name, r.ok) for r in results][-2:] == [("key", True), ("request", False)]
    assert "-> 404" in results[-1].line
    assert "check STOQ_BASE_URL" in results[-1].line
    assert exit_code(results) == 1


def test_nothing_listening_is_cannot_reach(env):
    url = f"http://127.0.0.1:{free_port()}/api/v2/external"
    env.setenv("STOQ_BASE_URL", url)
    results = run_checks(lambda: client_from_env(max_retries=0))
    assert results[-1].name == "request"
    assert results[-1].line.startswith(f"request: cannot reach {url}: ")
    assert exit_code(results) == 1


def test_lines_come_one_at_a_time_and_the_client_is_closed_at_the_end(env):
    built: list[StoqClient] = []

    def make() -> StoqClient:
        built.append(client_from_env())
        return built[-1]

    stream = checks(make)
    assert next(stream).name == "base_url"
    assert next(stream).name == "warehouse"
    assert next(stream).name == "key"
    assert built == []  # not before the offline checks passed
    assert [r.name for r in stream] == ALL[3:]
    with pytest.raises(RuntimeError, match="closed"):
        built[0].help()


# -- a server of our own: what the sandbox never sends -----------------------------------------

FAKE_URL = "https://stoq.test/api/v2/external"


def fake_shop(actions: list[dict], seen: list[str] | None = None) -> Callable[[], StoqClient]:
    """A client whose server answers offers and /help, with no X-RateLimit-* headers; the
    paths asked (after the base) go into `seen`."""

    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request.url.path.removeprefix("/api/v2/external"))
        if request.url.path.endswith("/preorders/offers"):
            meta = {"page": 1, "per_page": 1, "total_count": 0, "total_pages": 0}
            return httpx.Response(200, json={"offers": [], "meta": meta})
        if request.url.path.endswith("/help"):
            return httpx.Response(200, json={"version": "v2", "actions": actions})
        return httpx.Response(404, json={"errors": ["Not found"]})

    return lambda: StoqClient("k" * 40, FAKE_URL, transport=httpx.MockTransport(answer))


def test_no_rate_limit_headers_is_none_sent_and_no_failure(env):
    env.setenv("STOQ_BASE_URL", FAKE_URL)
    results = run_checks(fake_shop(sandbox_actions()))
    assert [r.name for r in results] == ALL
    assert results[4] == Check(
        "rate_limit", True, "rate limit: none sent (no X-RateLimit-* headers)"
    )
    assert results[5].line.startswith("/help: reachable; ")
    assert exit_code(results) == 0


def sandbox_actions(*edits: dict) -> list[dict]:
    """The actions the sandbox lists under /preorders, with these manifest edits."""
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=1, manifest_edits=edits))
    return shop.registry.manifest("/preorders")["actions"]


def test_the_contract_reuses_the_help_answer_and_fails_on_breaking_drift(env):
    env.setenv("STOQ_BASE_URL", FAKE_URL)
    seen: list[str] = []
    make = fake_shop(sandbox_actions({"action": "release", "remove": True}), seen)
    results = run_checks(make)
    assert [r.name for r in results] == ALL
    assert seen.count("/help") == 1  # the contract compares the answer the help check got
    assert results[-1] == Check(
        "contract",
        False,
        "contract: 1 breaking difference: POST /preorders/orders/:id/release (release): missing:"
        " no action at this method and path, by name or alias",
    )
    assert exit_code(results) == 1


def test_an_added_alias_or_a_dropped_requirement_passes_the_contract(env):
    env.setenv("STOQ_BASE_URL", FAKE_URL)
    actions = sandbox_actions({"action": "release", "add_aliases": ["free it"]})
    for action in actions:
        if action["name"] == "bulk_release":
            action["request_schema"]["required"] = []
    results = run_checks(fake_shop(actions))
    assert results[-1].ok and results[-1].line.startswith(
        f"contract: matches the client ({len(CALLS)} actions); 1 non-breaking difference: "
        "POST /preorders/orders/bulk_release (bulk_release): required dropped"
    )
    assert exit_code(results) == 0


def test_a_manifest_without_actions_fails_the_help_check(env):
    env.setenv("STOQ_BASE_URL", FAKE_URL)
    results = run_checks(fake_shop([]))
    assert results[-1] == Check(
        "help", False, "/help: answered, but lists no actions under /preorders"
    )
    assert exit_code(results) == 1


def test_a_named_shop_is_checked_with_its_own_base_url_and_key_variable(env, live):
    env.delenv("STOQ_API_KEY")  # only the shop's own variable counts
    env.delenv("STOQ_BASE_URL")
    shop = Shop("eu", "SHOP_EU_KEY", live.base_url)
    missing = run_checks(never, shop)
    assert [r.name for r in missing] == ["shop", "base_url", "warehouse", "key"]
    assert missing[0].line == "shop: eu (key in SHOP_EU_KEY)"
    assert missing[1].line.startswith(f"base URL: {live.base_url} (shop eu); plain http")
    assert missing[-1].line == "API key: SHOP_EU_KEY is not set; export shop eu's key"
    assert exit_code(missing) == 2
    env.setenv("SHOP_EU_KEY", sandbox.DEFAULT_API_KEY)
    results = run_checks(shop.client, shop)
    assert [r.name for r in results] == ["shop", *ALL] and all(r.ok for r in results)
    assert "API key: SHOP_EU_KEY is set" in text(results)
    assert exit_code(results) == 0
