"""Errors that point at the cause: --version, "did you mean", a wrong base URL, sandbox help."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

import sandbox
from pipelines.cli import build_parser
from tests.pipelines.cli_helpers import cli_env, run_cli


@pytest.fixture(scope="module")
def served() -> Iterator[sandbox.RunningSandbox]:
    with sandbox.serve(sandbox.SandboxConfig(orders=5)) as running:
        yield running


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    done = run_cli(cli_env(tmp_path), "--version")
    assert done.returncode == 0
    assert done.stdout.strip().startswith("preorders ") and "unknown" not in done.stdout


@pytest.mark.parametrize(
    ("args", "meant"), [(["synk"], "sync"), (["offers", "lsit"], "list"), (["relese"], "release")]
)
def test_a_mistyped_command_gets_a_suggestion(tmp_path: Path, args: list[str], meant: str) -> None:
    done = run_cli(cli_env(tmp_path), *args)
    assert done.returncode == 2
    assert done.stderr.strip().endswith(f"did you mean '{meant}'?")


def test_nothing_close_gets_no_suggestion(tmp_path: Path) -> None:
    done = run_cli(cli_env(tmp_path), "xyzzy")
    assert done.returncode == 2 and "did you mean" not in done.stderr


def test_every_sandbox_option_says_what_it_does() -> None:
    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    options = [a for a in subparsers.choices["sandbox"]._actions if a.option_strings]
    assert len(options) > 15
    assert [a.dest for a in options if not a.help] == []


@pytest.mark.parametrize("command", [["offers", "list"], ["sync"]])
def test_a_404_on_a_path_every_shop_has_points_at_the_base_url(
    served: sandbox.RunningSandbox, tmp_path: Path, command: list[str]
) -> None:
    env = cli_env(
        tmp_path, STOQ_API_KEY=sandbox.DEFAULT_API_KEY, STOQ_BASE_URL=served.url + "/api/v1"
    )
    done = run_cli(env, *command)
    assert done.returncode == 1
    assert "404" in done.stderr and "check STOQ_BASE_URL" in done.stderr


def test_a_404_for_one_unknown_offer_is_not_blamed_on_the_base_url(
    served: sandbox.RunningSandbox, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, STOQ_API_KEY=sandbox.DEFAULT_API_KEY, STOQ_BASE_URL=served.base_url)
    done = run_cli(env, "offers", "show", "00000000-0000-0000-0000-000000000000")
    assert done.returncode == 1
    assert "404" in done.stderr and "STOQ_BASE_URL" not in done.stderr
