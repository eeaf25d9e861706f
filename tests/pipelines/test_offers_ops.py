"""manage_offer: each action through the plain function and the Dagster job, incl. 409/422/404."""

from __future__ import annotations

import pytest

from pipelines.cli_support import ensure_dagster_home
from pipelines.ops.offers import manage_offer
from pipelines.resources import StoqResource
from preorders.offers import describe_error, manage
from sandbox import DEFAULT_API_KEY, FakeClock, SandboxConfig, Shop, mock_transport, serve
from stoq import StoqClient, errors

BASE_URL = "http://sandbox.test/api/v2/external"


@pytest.fixture
def shop():
    return Shop(SandboxConfig(rate_limit_points=1_000_000, orders=40), clock=FakeClock())


@pytest.fixture
def client(shop):
    with StoqClient(DEFAULT_API_KEY, BASE_URL, transport=mock_transport(shop)) as c:
        yield c


def offer_with(shop: Shop, status: str) -> str:
    return next(o.id for o in shop.offers.values() if o.status == status)


def unattached_variant(shop: Shop, offer_id: str) -> int:
    return next(v for v in sorted(shop.variants) if v not in shop.offers[offer_id].variant_ids)


def test_enable_and_disable_report_the_status_change(shop, client):
    offer_id = offer_with(shop, "disabled")
    enabled = manage(client, offer_id, "enable")
    assert (enabled.status_before, enabled.status_after) == ("disabled", "enabled")
    assert shop.offers[offer_id].enabled
    assert enabled.summary() == f"enabled offer {offer_id} (status disabled -> enabled)"
    disabled = manage(client, offer_id, "disable")
    assert (disabled.status_before, disabled.status_after) == ("enabled", "disabled")
    assert not shop.offers[offer_id].enabled


def test_add_and_remove_variants_say_which_ids_changed(shop, client):
    offer_id = offer_with(shop, "enabled")
    attached = shop.offers[offer_id].variant_ids[0]
    new = unattached_variant(shop, offer_id)
    added = manage(client, offer_id, "add_variants", [new, attached])
    assert added.added == [new] and added.removed == []  # the attached id was a no-op
    assert new in shop.offers[offer_id].variant_ids
    assert added.metadata()["variant_count"] == len(shop.offers[offer_id].variant_ids)
    removed = manage(client, offer_id, "remove_variants", [new])
    assert removed.removed == [new] and new not in shop.offers[offer_id].variant_ids
    assert removed.summary().startswith(f"removed 1 variant(s) on offer {offer_id}")


def test_conflict_names_the_offer_and_the_servers_hint(shop, client):
    offer_id = offer_with(shop, "discarded")
    with pytest.raises(errors.Conflict) as caught:
        manage(client, offer_id, "enable")
    text = describe_error(offer_id, "enable", caught.value)
    assert text.startswith(f"cannot enable offer {offer_id} (409): ")
    assert "Restore it first" in text


def test_unknown_variants_are_a_validation_error(shop, client):
    offer_id = offer_with(shop, "enabled")
    with pytest.raises(errors.ValidationError) as caught:
        manage(client, offer_id, "add_variants", [1])
    assert describe_error(offer_id, "add_variants", caught.value) == (
        f"add_variants on offer {offer_id} rejected (422): Unknown variant ids: 1"
    )


def test_bad_requests_are_refused_before_any_call(shop, client):
    with pytest.raises(ValueError, match="unknown offer action"):
        manage(client, "x", "discard")
    with pytest.raises(ValueError, match="needs at least one variant id"):
        manage(client, "x", "add_variants", [])
    assert shop.count_requests() == 0


# -- the Dagster job ---------------------------------------------------------------------------


@pytest.fixture
def live(tmp_path, monkeypatch):
    home = ensure_dagster_home(tmp_path / "dagster_home")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with serve(Shop(SandboxConfig(rate_limit_points=1_000_000, orders=40))) as running:
        yield running


def run_manage(live, **config):
    return manage_offer.execute_in_process(
        run_config={"ops": {"apply_offer_action": {"config": config}}},
        resources={"stoq": StoqResource(api_key=DEFAULT_API_KEY, base_url=live.base_url)},
        raise_on_error=False,
    )


def step_metadata(result) -> dict:
    (event,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    return {k: v.value for k, v in event.step_output_data.metadata.items()}


def failure_text(result) -> str:
    (event,) = result.get_step_failure_events()
    return event.step_failure_data.user_failure_data.description


@pytest.mark.parametrize("action", ["enable", "disable", "add_variants", "remove_variants"])
def test_manage_offer_job_records_what_it_did(live, action):
    shop = live.shop
    offer_id = offer_with(shop, "disabled" if action == "enable" else "enabled")
    variant = (
        unattached_variant(shop, offer_id)
        if action == "add_variants"
        else shop.offers[offer_id].variant_ids[0]
    )
    ids = [variant] if action.endswith("_variants") else []
    result = run_manage(live, offer_id=offer_id, action=action, variant_ids=ids)
    assert result.success
    meta = step_metadata(result)
    assert (meta["offer_id"], meta["action"]) == (offer_id, action)
    if action == "enable":
        assert (meta["status_before"], meta["status_after"]) == ("disabled", "enabled")
    elif action == "disable":
        assert meta["status_after"] == "disabled" and not shop.offers[offer_id].enabled
    elif action == "add_variants":
        assert meta["variants_added"] == [variant] and variant in shop.offers[offer_id].variant_ids
    else:
        assert meta["variants_removed"] == [variant]
        assert variant not in shop.offers[offer_id].variant_ids
    assert result.output_for_node("apply_offer_action")["id"] == offer_id


def test_manage_offer_job_fails_clearly_on_409_422_404(live):
    discarded = offer_with(live.shop, "discarded")
    conflict = run_manage(live, offer_id=discarded, action="disable")
    assert not conflict.success
    assert failure_text(conflict).startswith(f"cannot disable offer {discarded} (409)")
    assert "restore" in failure_text(conflict)

    enabled = offer_with(live.shop, "enabled")
    invalid = run_manage(live, offer_id=enabled, action="add_variants", variant_ids=[7])
    assert "rejected (422): Unknown variant ids: 7" in failure_text(invalid)

    missing = run_manage(live, offer_id="00000000-0000-0000-0000-000000000000", action="enable")
    assert failure_text(missing) == "offer 00000000-0000-0000-0000-000000000000 not found (404)"
