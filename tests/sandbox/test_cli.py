"""The `preorders sandbox` subcommand parses flags into the SandboxConfig it serves."""

from __future__ import annotations

import argparse

from pipelines.commands import sandbox as command


def test_flags_build_the_config():
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "sandbox",
            "--port",
            "9000",
            "--seed",
            "3",
            "--orders",
            "50",
            "--chaos-5xx",
            "0.05",
            "--drift",
            "4",
            "--drift-every",
            "3",
            "--rate-limit-body",
            "errors",
        ]
    )
    assert args.handler is command.run and args.port == 9000
    config = command.config_from(args)
    assert (config.seed, config.orders, config.rate_limit_body) == (3, 50, "errors")
    assert config.chaos.error_5xx == 0.05 and config.chaos.drop == 0
    assert (config.chaos.new_orders_during_walk, config.chaos.drift_every) == (4, 3)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["sandbox", *argv])


def test_state_is_off_unless_a_file_is_named():
    assert parse().state is None
    assert parse("--state", "data/demo-shop.json").state == "data/demo-shop.json"


def test_a_state_file_that_is_not_a_shop_is_a_usage_error(tmp_path, capsys):
    bad = tmp_path / "shop.json"
    bad.write_text("{}")
    assert command.run(parse("--state", str(bad), "--port", "0")) == 2
    err = capsys.readouterr().err
    assert err.startswith("preorders sandbox: --state ") and str(bad) in err
    assert bad.read_text() == "{}"  # left as it was
