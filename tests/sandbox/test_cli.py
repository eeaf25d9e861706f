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
