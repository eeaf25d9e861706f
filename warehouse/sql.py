"""Load the package's SQL files (`warehouse/sql/*.sql`, `warehouse/schema/*.sql`) by name."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def query(name: str) -> str:
    """Return the text of `warehouse/sql/<name>.sql`."""
    return resources.files("warehouse").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def schema_files() -> dict[str, str]:
    """Return `{file name: text}` for every `warehouse/schema/*.sql`, sorted by name."""
    folder = resources.files("warehouse").joinpath("schema")
    files = {
        f.name: f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith(".sql")
    }
    return dict(sorted(files.items()))
