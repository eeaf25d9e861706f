"""`preorders offers`: list, show, enable, disable, add-variants, remove-variants."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from pipelines.cli_support import (
    add_shop_arg,
    fail,
    run_guarded,
    scrub,
    selected_shop,
    shop_client,
)

ACTIONS = {
    "enable": "enable",
    "disable": "disable",
    "add-variants": "add_variants",
    "remove-variants": "remove_variants",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `offers` subcommand and its verbs."""
    p = subparsers.add_parser("offers", help="List, show and manage preorder offers.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    listing = verbs.add_parser("list", help="List offers (newest first).")
    listing.add_argument("--status", help="enabled | disabled | scheduled | discarded")
    listing.add_argument("--json", action="store_true", help="print the offers as JSON")
    add_shop_arg(listing)
    listing.set_defaults(handler=lambda a: run_guarded("offers list", lambda: list_offers(a)))
    show = verbs.add_parser("show", help="Show one offer as JSON.")
    show.add_argument("id")
    add_shop_arg(show)
    show.set_defaults(
        handler=lambda a: run_guarded("offers show", lambda: show_offer(a.id, a.shop))
    )
    for verb, action in ACTIONS.items():
        sub = verbs.add_parser(verb, help=f"{verb.replace('-', ' ').capitalize()} on an offer.")
        sub.add_argument("id")
        if action.endswith("_variants"):
            sub.add_argument("variant_ids", nargs="+", type=int, metavar="VARIANT")
        add_shop_arg(sub)
        sub.set_defaults(handler=_action_handler(verb, action))


def list_offers(args: argparse.Namespace) -> None:
    """Print every offer, one line each (or JSON)."""
    with shop_client(args.shop) as (_shop, client):
        offers = client.list_offers(status=args.status).all()
    if args.json:
        print(scrub(json.dumps(offers, indent=2)))  # server text: may echo the key
        return
    for offer in offers:
        count = len(offer.get("shopify_variant_ids") or [])
        status = offer.get("status", "?")
        print(scrub(f"{offer['id']}  {status:<10} {count:>4} variants  {offer.get('name')}"))
    print(f"{len(offers)} offer(s)")


def show_offer(offer_id: str, shop: str | None = None) -> None:
    """Print one offer (of `shop`) as JSON."""
    with shop_client(shop) as (_shop, client):
        print(scrub(json.dumps(client.get_offer(offer_id), indent=2)))


def _action_handler(verb: str, action: str) -> Callable[[argparse.Namespace], int]:
    def body(args: argparse.Namespace) -> int:
        from preorders.offers import describe_error, manage
        from stoq import errors

        shop = selected_shop(args.shop, key_first=True)  # a bad choice: exit 2, not this error
        try:
            with shop.client() as client:
                change = manage(client, args.id, action, getattr(args, "variant_ids", None))
        except errors.StoqError as exc:
            return fail(f"offers {verb}", describe_error(args.id, action, exc))
        print(scrub(change.summary()))
        return 0

    return lambda args: run_guarded(f"offers {verb}", lambda: body(args))
