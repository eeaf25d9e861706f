"""Imports point one way: pipelines/ wiring -> assets/ -> preorders/ (core) -> stoq/, warehouse/.

Every `import` and `from ... import` in our six packages is read with `ast` (function-level and
`TYPE_CHECKING` ones too, relative ones resolved, `from X import Y` taken as `X.Y` when Y is a
module) and each edge between two of our layers must be allowed below. ruff's TID251 ban sees
only direct `import dagster`; the subprocess tests catch what arrives transitively.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("stoq", "warehouse", "sandbox", "preorders", "assets", "pipelines")
LAYERS = {"stoq": "stoq", "warehouse": "warehouse", "sandbox": "sandbox", "preorders": "core",
          "assets": "assets", "pipelines": "wiring"}  # fmt: skip
# The CLI lives in pipelines/ for now but is not wiring: it calls the core, never an op.
CLI = ("pipelines.cli", "pipelines.cli_args", "pipelines.cli_support", "pipelines.cli_progress",
       "pipelines.cli_recorder", "pipelines.cli_sync_lines", "pipelines.demo_files",
       "pipelines.stopping", "pipelines.commands")  # fmt: skip
# The two commands that record into the Dagster instance: they may also import dagster and the
# wiring not in NOT_FOR_CLI (pipelines.recording, pipelines.resources).
RECORDS = {"pipelines.commands.sync", "pipelines.commands.demo"}
# Wiring no CLI module imports, not even the two that record.
NOT_FOR_CLI = ("pipelines.ops", "pipelines.jobs", "pipelines.sensors", "pipelines.schedules",
               "pipelines.definitions")  # fmt: skip
ALLOWED = {
    "stoq": {"stoq"},
    "warehouse": {"warehouse"},
    "sandbox": {"sandbox", "stoq"},
    "core": {"core", "stoq", "warehouse"},
    "assets": {"assets", "core", "stoq", "warehouse", "dagster"},
    "wiring": {"wiring", "assets", "core", "stoq", "warehouse", "dagster"},
    "cli": {"cli", "core", "stoq", "warehouse", "sandbox"},
}


def _within(module: str, prefixes: tuple[str, ...] | set[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def layer(module: str) -> str | None:
    """The layer a module belongs to; None for the stdlib and third-party libraries."""
    if _within(module, CLI):
        return "cli"
    top = module.partition(".")[0]
    if top.startswith("dagster"):  # dagster, dagster_duckdb, dagster_webserver, ...
        return "dagster"
    return LAYERS.get(top)


def allowed(src: str, dst: str) -> bool:
    src_layer, dst_layer = layer(src), layer(dst)
    if dst_layer is None or src_layer is None:
        return True
    if src_layer == "cli" and (_within(dst, NOT_FOR_CLI) or dst_layer == "assets"):
        return False
    if src in RECORDS and dst_layer in {"dagster", "wiring"}:
        return True
    return dst_layer in ALLOWED[src_layer]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import statement in the file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*up, node.module] if node.module else up)
            else:
                base = node.module or ""
            for alias in node.names:
                child = f"{base}.{alias.name}"
                yield node.lineno, child if is_module(child) else base


def sources() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def edges() -> Iterator[tuple[str, str, str]]:
    """(where, src, dst) for every import of a module in one of our layers or dagster."""
    for path in sources():
        src = module_name(path)
        for line, dst in imports(path):
            if layer(dst) is not None:
                yield f"{path.relative_to(ROOT)}:{line}", src, dst


def test_the_walk_sees_every_package_and_the_cli() -> None:
    seen = {layer(src) for _, src, _ in edges()}
    assert seen >= {"stoq", "warehouse", "sandbox", "core", "assets", "wiring", "cli"}
    assert layer("pipelines.commands.offers") == "cli"
    assert layer("pipelines.cli_support") == "cli"
    assert layer("pipelines.ops.offers") == "wiring"
    assert layer("dagster_duckdb") == "dagster"
    assert layer("pandas") is None
    assert not allowed("preorders.actions.reads", "assets.sync_assets")
    assert not allowed("pipelines.commands.offers", "pipelines.ops.offers")
    assert not allowed("pipelines.commands.demo", "pipelines.definitions")
    assert not allowed("pipelines.commands.report", "dagster")
    assert allowed("pipelines.commands.sync", "dagster")


def test_imports_point_down() -> None:
    bad = [f"{where}: {src} -> {dst}" for where, src, dst in edges() if not allowed(src, dst)]
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_cli_imports_no_op_module() -> None:
    bad = [
        f"{where}: {src} -> {dst}"
        for where, src, dst in edges()
        if layer(src) == "cli" and _within(dst, ("pipelines.ops",))
    ]
    assert not bad, "CLI modules importing an op module:\n" + "\n".join(bad)


def _loaded_tops(code: str) -> set[str]:
    """Run `code` in a fresh interpreter at the repo root; the top-level names in sys.modules."""
    tops = "print(' '.join({m.partition('.')[0] for m in sys.modules}))"
    probe = f"{code}\nimport sys\n{tops}"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(done.stdout.split())


def test_the_core_imports_without_dagster() -> None:
    tops = _loaded_tops(
        "import importlib, pkgutil, preorders\n"
        "for info in pkgutil.walk_packages(preorders.__path__, 'preorders.'):\n"
        "    importlib.import_module(info.name)"
    )
    assert "preorders" in tops
    assert sorted(t for t in tops if t.startswith("dagster")) == []


def test_fast_commands_load_no_dagster_or_pandas() -> None:
    """`--help`, `offers`, `jobs poll`, `help-manifest`: the parser and their handlers' modules."""
    tops = _loaded_tops(
        "from pipelines.cli import build_parser\n"
        "build_parser()\n"
        "import pipelines.commands.offers, pipelines.commands.jobs\n"
        "import pipelines.commands.help_manifest\n"
        "import preorders.settings, preorders.offers, preorders.jobtracking"
    )
    heavy = sorted(t for t in tops if t.startswith("dagster") or t in {"pandas", "matplotlib"})
    assert heavy == []
