"""The short commands start without Dagster, pandas or matplotlib (what they would cost: ~2 s).

Deterministic: each case runs in a fresh interpreter and reads `sys.modules` afterwards; no wall
time is asserted (bench/cli_overhead.py prints those figures).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import sandbox
from stoq import StoqClient
from tests.pipelines.cli_helpers import ROOT, cli_env

HEAVY = {"dagster", "dagster_duckdb", "pandas", "matplotlib"}

# Runs `preorders ARGS...` through main() in this interpreter, then writes the exit code and the
# top-level names of every module loaded to the file named by the first argument.
DRIVER = """
import json, sys
from pipelines.cli import main
out, args = sys.argv[1], sys.argv[2:]
try:
    code = main(args)
except SystemExit as exc:  # --help
    code = exc.code
with open(out, "w") as f:
    json.dump({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}, f)
"""

IMPORTS = """
import json, sys
from pipelines.cli import build_parser
build_parser()
import pipelines.cli_support, pipelines.commands.help_manifest, pipelines.commands.jobs
import pipelines.commands.offers, pipelines.commands.sandbox, preorders.settings
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def loaded(code: str, env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def run(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, set[str], str]:
    """Exit code, top-level modules loaded, and stdout+stderr of `preorders ARGS`."""
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(out), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    result = json.loads(out.read_text())
    return result["code"], set(result["modules"]), done.stdout + done.stderr


def test_building_the_parser_loads_no_heavy_module():
    modules = loaded(IMPORTS)
    assert modules & HEAVY == set()
    assert {"duckdb", "sandbox", "uvicorn"} & modules == set()  # those load in their handlers


def test_the_settings_module_imports_only_the_standard_library():
    modules = loaded(
        "import json, sys; import preorders.settings;"
        " print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    assert {"stoq", "httpx", "duckdb", "warehouse", "dagster"} & modules == set()


@pytest.mark.parametrize(
    "args", [("--help",), ("offers", "list"), ("help-manifest",), ("jobs", "poll", "http://x/j/1")]
)
def test_without_a_key_a_command_exits_2_before_anything_heavy_loads(tmp_path, args):
    code, modules, output = run(tmp_path, cli_env(tmp_path), *args)
    assert code == (0 if args == ("--help",) else 2), output
    assert modules & HEAVY == set()
    if args[0] != "jobs":  # the key is checked before the client (httpx) or DuckDB is loaded
        assert {"httpx", "duckdb"} & modules == set()
    if args != ("--help",):
        assert "STOQ_API_KEY is not set" in output


@pytest.fixture(scope="module")
def live():
    with sandbox.serve(sandbox.Shop(sandbox.SandboxConfig(orders=5, job_steps=0))) as server:
        yield server


def test_offers_list_and_help_manifest_against_the_sandbox_load_no_heavy_module(tmp_path, live):
    env = cli_env(tmp_path, STOQ_API_KEY=sandbox.DEFAULT_API_KEY, STOQ_BASE_URL=live.base_url)
    for args in (("offers", "list"), ("help-manifest",)):
        code, modules, output = run(tmp_path, env, *args)
        assert code == 0, output
        assert modules & HEAVY == set(), args
        assert "duckdb" not in modules, args  # neither command opens the warehouse


def test_jobs_poll_records_without_dagster_or_pandas(tmp_path, live):
    with StoqClient(sandbox.DEFAULT_API_KEY, live.base_url) as client:
        handle = client.start_export(client.list_reports()[0]["name"])
    env = cli_env(tmp_path, STOQ_API_KEY=sandbox.DEFAULT_API_KEY, STOQ_BASE_URL=live.base_url)
    code, modules, output = run(tmp_path, env, "jobs", "poll", handle.status_url)
    assert code == 0, output
    assert "ready 100%" in output, output
    assert modules & HEAVY == set()
    with duckdb.connect(str(tmp_path / "preorders.duckdb")) as conn:  # cli_env's, not data/
        assert conn.execute("select last_status from jobs").fetchall() == [("ready",)]
