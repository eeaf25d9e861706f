"""`preorders help-manifest`: the live action manifest (`GET /help`, SPEC §6.1)."""

from __future__ import annotations

import argparse
import json

from pipelines.cli_support import add_shop_arg, run_guarded, shop_client


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `help-manifest` subcommand."""
    p = subparsers.add_parser("help-manifest", help="Show the API's live action manifest.")
    p.add_argument("--prefix", help="only actions under this path, e.g. /preorders/orders")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")
    add_shop_arg(p)
    p.set_defaults(handler=lambda a: run_guarded("help-manifest", lambda: show_manifest(a)))


def show_manifest(args: argparse.Namespace) -> None:
    """Print one line per action (method, path, name, description), or the raw JSON."""
    with shop_client(args.shop) as (_shop, client):
        manifest = client.help(args.prefix)
    if args.json:
        print(json.dumps(manifest, indent=2))
        return
    actions = manifest.get("actions") or []
    width = max((len(a.get("path", "")) for a in actions), default=0)
    for action in actions:
        print(
            f"{action.get('method', '?'):<6} {action.get('path', ''):<{width}}  "
            f"{action.get('name', '')}: {action.get('description', '')}"
        )
    print(f"{len(actions)} action(s) under {manifest.get('base_path', '')}{args.prefix or ''}")
