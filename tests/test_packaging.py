"""The distribution ships every package and SQL file that the code imports or reads."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_subpackage_is_included() -> None:
    include = _config()["tool"]["setuptools"]["packages"]["find"]["include"]
    found = set(find_packages(where=ROOT, include=include))
    tops = {pattern.rstrip("*") for pattern in include}
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in tops
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk, "no packages found on disk"
    assert on_disk <= found, f"not shipped: {sorted(on_disk - found)}"


def test_sql_files_are_package_data() -> None:
    patterns = _config()["tool"]["setuptools"]["package-data"]["warehouse"]
    sql_dirs = {p.parent.name for p in (ROOT / "warehouse").rglob("*.sql")}
    assert sql_dirs == {pattern.split("/")[0] for pattern in patterns}


def test_the_dagster_yaml_the_cli_writes_is_package_data() -> None:
    assert "dagster.yaml" in _config()["tool"]["setuptools"]["package-data"]["pipelines"]
    assert (ROOT / "pipelines" / "dagster.yaml").is_file()
