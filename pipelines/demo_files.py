"""The files `preorders demo` leaves next to its warehouse, and the lines it prints about them.

    <stem>.duckdb            the warehouse: every shop's rows (`shop` leads every key)
    <stem>-shop.json         shop1 as the demo left it (`preorders sandbox --state` FILE; shop k
    <stem>-shop-shop2.json   >= 2 in FILE's name + -shop<k>, as that command keeps them)
    <stem>-shops.yaml        the PREORDERS_SHOPS file: names and key variables, no key, no URL
    dagster/                 the Dagster home its runs are recorded in

The shops file names no base URL: each shop's falls back to STOQ_BASE_URL, so one file serves the
demo (its sandbox on a free port) and the printed lines (the sandbox on `--sandbox-port`). Those
lines use absolute paths only and run from any folder in a fresh shell: the first serves the
saved shops, the second starts `dagster dev` with the warehouse, the shops file, every shop's key
variable (sandbox keys: fine to print, as `preorders sandbox` does), the base URL and the home.
Standard library only: the demo passes the sandbox's names and keys in.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

DAGSTER_UI = "http://127.0.0.1:3000"  # where `dagster dev` serves by default


def shop_state_path(db: str | os.PathLike[str]) -> Path:
    """Where the demo keeps its first shop, `<stem>-shop.json`: the printed `--state` FILE."""
    path = Path(db)
    return path.with_name(f"{path.stem}-shop.json")


def shops_file_path(db: str | os.PathLike[str]) -> Path:
    """Where the demo writes its PREORDERS_SHOPS file, `<stem>-shops.yaml`."""
    path = Path(db)
    return path.with_name(f"{path.stem}-shops.yaml")


def shops_file_text(key_envs: dict[str, str]) -> str:
    """The PREORDERS_SHOPS file for shops `{name: key variable}`: no keys, no base URL."""
    lines = [
        "# The shops of `preorders demo` (the sandbox's). Each key lives in the variable named;",
        "# with no base_url, a shop's base URL is $STOQ_BASE_URL.",
        "shops:",
    ]
    for name, key_env in key_envs.items():
        lines += [f"  - name: {name}", f"    api_key_env: {key_env}"]
    return "\n".join(lines) + "\n"


def _command(name: str) -> str:
    """`name` from the environment the demo runs in (the venv's bin folder), else from PATH."""
    beside = Path(sys.executable).parent / name  # not resolved: a venv's python is a symlink
    return str(beside) if beside.exists() else name


def ui_commands(
    db: str, shops: int, keys: dict[str, str], base_url: str, port: int, dagster_home: str
) -> tuple[str, str]:
    """The two shell lines: serve the `shops` saved shops on `port`, then `dagster dev` on the
    demo's data; `keys`: each shop's key variable and its (sandbox) key."""
    state = shop_state_path(db).resolve()
    serve = shlex.join(
        [_command("preorders"), "sandbox", "--shops", str(shops), "--state", str(state)]
        + ["--port", str(port)]
    )
    env = {
        "PREORDERS_DUCKDB_PATH": str(Path(db).resolve()),
        "PREORDERS_SHOPS": str(shops_file_path(db).resolve()),
        **keys,
        "STOQ_BASE_URL": base_url,
        "DAGSTER_HOME": dagster_home,
    }
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    dagster = shlex.join([_command("dagster"), "dev", "-m", "pipelines.definitions"])
    return serve, f"{assignments} {dagster}"


def finish_lines(
    db: str, names: list[str], report: str | None, lines: tuple[str, str]
) -> list[str]:
    """Where to look next: the warehouse, the shops file, the report page, the UI `lines`."""
    serve, dagster = lines
    return [
        "",
        f"warehouse: {Path(db).resolve()} (the report_* views: docs/DASHBOARDS.md)",
        f"shops:     {shops_file_path(db).resolve()} (PREORDERS_SHOPS: {', '.join(names)})",
        *([f"report:    {report}"] if report else []),
        "",
        "Dagster UI on the same data: the demo's shops, warehouse, ledger and runs.",
        "1. In one terminal, serve the shops the demo left (changes are saved to their files):",
        f"  {serve}",
        "2. In another, start Dagster on the demo's warehouse, shops and home (sandbox keys):",
        f"  {dagster}",
        f"3. Open {DAGSTER_UI}. The synced assets have a partition per shop. Orders the demo"
        " released stay released; a release_orders launch is a dry run unless dry_run is set to"
        " false, and names its shop.",
    ]
