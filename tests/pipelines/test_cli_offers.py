"""The offers, jobs, help-manifest and export commands against a loopback sandbox."""

from __future__ import annotations

import json

import duckdb
import pytest

from pipelines.cli import main
from sandbox import DEFAULT_API_KEY, SandboxConfig, Shop, serve
from stoq import StoqClient
from tests.pipelines.cli_helpers import error_lines
from warehouse import jobs
from warehouse.exports import export_table


@pytest.fixture(scope="module")
def live():
    shop = Shop(SandboxConfig(rate_limit_points=1_000_000, orders=40, job_steps=2))
    with serve(shop) as running:
        yield running


@pytest.fixture(autouse=True)
def env(live, tmp_path, monkeypatch):
    monkeypatch.setenv("STOQ_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("STOQ_BASE_URL", live.base_url)
    monkeypatch.setenv("PREORDERS_DUCKDB_PATH", str(tmp_path / "w.duckdb"))


@pytest.fixture
def cli(capsys):
    """Run `preorders ARGS...`; return (exit code, stdout, stderr), checking the key stays out."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        assert DEFAULT_API_KEY not in out + err
        return code, out, err

    return run


def offer_with(live, status: str) -> str:
    return next(o.id for o in live.shop.offers.values() if o.status == status)


def test_offers_list_filters_by_status_and_prints_json(cli, live):
    code, out, _ = cli("offers", "list", "--status", "enabled")
    enabled = [o for o in live.shop.offers.values() if o.status == "enabled"]
    assert code == 0 and out.splitlines()[-1] == f"{len(enabled)} offer(s)"
    assert all(o.id in out for o in enabled)
    code, out, _ = cli("offers", "list", "--json")
    assert code == 0 and len(json.loads(out)) == len(live.shop.offers)


def test_offers_show_prints_the_offer(cli, live):
    offer_id = offer_with(live, "enabled")
    code, out, _ = cli("offers", "show", offer_id)
    assert code == 0 and json.loads(out)["id"] == offer_id


def test_offers_enable_disable_and_variants(cli, live):
    offer_id = offer_with(live, "disabled")
    code, out, _ = cli("offers", "enable", offer_id)
    assert (code, out.strip()) == (0, f"enabled offer {offer_id} (status disabled -> enabled)")
    assert live.shop.offers[offer_id].enabled
    code, out, _ = cli("offers", "disable", offer_id)
    assert code == 0 and not live.shop.offers[offer_id].enabled
    variant = next(
        v for v in sorted(live.shop.variants) if v not in live.shop.offers[offer_id].variant_ids
    )
    code, out, _ = cli("offers", "add-variants", offer_id, str(variant))
    assert code == 0 and out.startswith("added 1 variant(s)") and str(variant) in out
    code, out, _ = cli("offers", "remove-variants", offer_id, str(variant))
    assert code == 0 and out.startswith("removed 1 variant(s)")
    assert variant not in live.shop.offers[offer_id].variant_ids


def test_offer_errors_are_one_line_and_non_zero(cli, live):
    discarded = offer_with(live, "discarded")
    code, out, err = cli("offers", "enable", discarded)
    assert code == 1 and out == ""
    assert err.startswith(f"preorders offers enable: cannot enable offer {discarded} (409): ")
    assert len(err.strip().splitlines()) == 1
    code, _, err = cli("offers", "add-variants", offer_with(live, "enabled"), "7")
    assert code == 1 and "rejected (422): Unknown variant ids: 7" in err
    code, _, err = cli("offers", "show", "nope")
    assert code == 1 and "404" in err


def test_a_missing_or_wrong_key_is_reported_without_echoing_it(cli, monkeypatch):
    monkeypatch.delenv("STOQ_API_KEY")
    code, _, err = cli("offers", "list")
    assert code == 2 and "STOQ_API_KEY is not set" in err
    monkeypatch.setenv("STOQ_API_KEY", "stoq_api_key_wrong")
    code, _, err = cli("help-manifest")
    assert code == 1 and "401" in err and "stoq_api_key_wrong" not in err


def test_help_manifest_lists_actions_under_a_prefix(cli):
    code, out, _ = cli("help-manifest", "--prefix", "/preorders/offers")
    lines = out.splitlines()
    assert code == 0 and any(line.startswith("POST") and "/enable" in line for line in lines)
    assert not any("/preorders/orders" in line for line in lines)
    code, out, _ = cli("help-manifest", "--json")
    assert code == 0 and json.loads(out)["version"] == "v2"


def test_jobs_poll_follows_a_job_to_the_end(cli, live):
    with StoqClient(DEFAULT_API_KEY, live.base_url) as client:
        handle = client.bulk_variant_action("bulk_sync_metafields")
    code, out, _ = cli("jobs", "poll", handle.status_url, "--interval", "0.01")
    assert code == 0 and out.splitlines()[-1].startswith(f"job {handle.job_id}: completed 100%")


def test_jobs_poll_reports_failure_and_404(cli, live):
    with StoqClient(DEFAULT_API_KEY, live.base_url) as client:
        handle = client.bulk_variant_action("bulk_reset_metafields")
    live.shop.force_job_status(handle.job_id, "failed", error="shopify throttled")
    code, _, err = cli("jobs", "poll", handle.status_url)
    assert code == 1 and "failed: shopify throttled" in err
    code, _, err = cli("jobs", "poll", "/api/v2/external/preorders/orders/jobs/bulk_orders_x")
    assert code == 1 and "unknown or expired" in err


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
@pytest.mark.parametrize("flag", ["--interval", "--timeout"])
def test_polling_flags_take_positive_seconds_only(capsys, flag, value):
    # --interval 0 polled without a pause: the whole rate budget went in a burst.
    with pytest.raises(SystemExit) as usage:
        main(["jobs", "poll", "http://127.0.0.1:9/jobs/1", flag, value])
    assert usage.value.code == 2
    assert (
        f"argument {flag}: must be a number of seconds > 0, not '{value}'"
        in capsys.readouterr().err
    )


def test_export_loads_the_report_into_duckdb(cli, tmp_path):
    code, out, _ = cli("export", "revenue", "--from", "2025-01-01", "--interval", "0.01")
    assert code == 0, out
    assert out.splitlines()[0].startswith("submitted export job exp_")
    rows = int(out.splitlines()[-1].split()[1])
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        # Exports have their own prefix (issue 9): report_* is the dashboard views' namespace.
        table = export_table("revenue")
        assert conn.execute(f"select count(*) from {table}").fetchone() == (rows,)
        assert jobs.open_jobs(conn) == []


def test_export_refuses_unknown_reports(cli, live):
    before = live.shop.count_requests("POST")
    code, _, err = cli("export", "payroll")
    assert code == 1 and "unknown report 'payroll'" in err
    assert live.shop.count_requests("POST") == before


def test_jobs_poll_of_an_unknown_job_prints_no_made_up_status(cli):
    url = "/api/v2/external/preorders/orders/jobs/bulk_orders_nope"
    code, out, err = cli("jobs", "poll", url, "--timeout", "0.3", "--interval", "0.05")
    assert (code, out) == (1, "")
    assert error_lines(err) == [
        "preorders jobs poll: job bulk_orders_nope is unknown or expired: only 404s in 0s"
    ]
