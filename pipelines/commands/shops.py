"""`preorders shops`: the configured shops, whether each key is set (never its value), and each
one's last sync per stream (from the warehouse; `never` when none, and a missing warehouse file
is never created)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from pipelines.cli_support import Echo, add_shop_arg, run_guarded, scrub, selected_shops

if TYPE_CHECKING:
    from preorders.settings import WarehouseSettings
    from preorders.shops import Shop

NEVER = "never"
DEFAULT = "one shop, `default`, from STOQ_API_KEY / STOQ_BASE_URL"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `shops` subcommand."""
    p = subparsers.add_parser(
        "shops",
        help="List the configured shops: key variable (set or not), base URL, budget, last sync.",
        description="Read the shops file named by PREORDERS_SHOPS (else the one `default` shop "
        "of STOQ_API_KEY / STOQ_BASE_URL) and print each shop's name, the environment variable "
        "holding its key and whether it is set (never the key), its base URL, its rate budget "
        "and its last sync per stream in the warehouse (never: none). No request is made. "
        "Exit 2 on a bad shops file or an unknown --shop.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_shop_arg(p, every_by_default=True)
    p.set_defaults(handler=lambda a: run_guarded("shops", lambda: show_shops(a)))


def show_shops(args: argparse.Namespace, echo: Echo = print) -> int:
    """Print the shops (aligned lines, or JSON with --json); a bad file raises before output."""
    import os

    from preorders.settings import warehouse_from_env
    from preorders.shops import SHOPS_ENV

    shops = selected_shops(args.shop)
    source = os.environ.get(SHOPS_ENV, "").strip() or None
    warehouse = warehouse_from_env()
    path = warehouse.path
    synced = last_syncs(shops, warehouse)
    rows = [describe(shop, synced.get(shop.name)) for shop in shops]
    if args.json:
        facts = {"shops_file": source, "warehouse": path, "shops": rows}
        echo(scrub(json.dumps(facts, indent=2, default=str)))
        return 0
    echo(f"shops from {source} ({SHOPS_ENV})" if source else f"{SHOPS_ENV} not set: {DEFAULT}")
    table = [["SHOP", "KEY VARIABLE", "BASE URL", "BUDGET", "LAST SYNC"]]
    table += [[r["name"], key_text(r), r["base_url"], budget_text(r), sync_text(r)] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    for row in table:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)] + row[-1:]
        echo(scrub("  ".join(cells)))
    return 0


def describe(shop: Shop, last_sync: dict[str, Any] | None) -> dict[str, Any]:
    """One shop as plain facts: no key, only whether its variable is set now."""
    return {
        "name": shop.name,
        "api_key_env": shop.api_key_env,
        "key_set": shop.key_is_set(),
        "base_url": shop.base_url,
        "points_per_window": shop.points_per_window,
        "last_sync": last_sync,
    }


def last_syncs(shops: list[Shop], warehouse: WarehouseSettings) -> dict[str, dict[str, Any]]:
    """Per shop name, its last sync run per stream ({stream: {finished_at, outcome,
    last_success_at}}), from the warehouse when its file exists; a shop never synced is absent."""
    from pathlib import Path

    if not Path(warehouse.path).exists():
        return {}  # opening a missing file would create it (and its folder)
    from warehouse.status import streams

    found: dict[str, dict[str, Any]] = {}
    with warehouse.connect() as conn:
        for shop in shops:
            runs = {
                s["stream"]: {
                    "finished_at": _iso(s["finished_at"]),
                    "outcome": s["outcome"],
                    "last_success_at": _iso(s["last_success_at"]),
                }
                for s in streams(conn, shop.name)
                if s["finished_at"] is not None
            }
            if runs:
                found[shop.name] = runs
    return found


def _iso(when: Any) -> str | None:
    return None if when is None else when.isoformat()


def key_text(row: dict[str, Any]) -> str:
    """`STOQ_API_KEY (set)` or `(not set)`: never the value."""
    return f"{row['api_key_env']} ({'set' if row['key_set'] else 'not set'})"


def budget_text(row: dict[str, Any]) -> str:
    """The rate budget: points per 60-second window."""
    return f"{row['points_per_window']}/min"


def sync_text(row: dict[str, Any]) -> str:
    """`offers <finished_at> <outcome>; orders …`, or `never` when the warehouse holds no run of
    this shop."""
    runs = row["last_sync"]
    if not runs:
        return NEVER
    return "; ".join(f"{stream} {r['finished_at']} {r['outcome']}" for stream, r in runs.items())
