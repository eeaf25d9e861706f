"""`preorders sandbox`: serve the STOQ v2 emulator in the foreground with uvicorn."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox import SandboxConfig, Shops

CHAOS_FLAGS = {
    "chaos_5xx": "error_5xx",
    "chaos_429": "burst_429",
    "chaos_drop": "drop",
    "chaos_truncate": "truncate",
    "chaos_drop_after_apply": "drop_after_apply",
    "chaos_latency_ms": "latency_ms",
    "chaos_jitter_ms": "latency_jitter_ms",
    "drift": "new_orders_during_walk",
    "drift_every": "drift_every",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sandbox` subcommand."""
    p = subparsers.add_parser("sandbox", help="Serve the local STOQ v2 API emulator.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback only)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (0: any free one)")
    p.add_argument("--seed", type=int, default=7, help="seed of the generated shop and faults")
    p.add_argument("--orders", type=int, default=500, help="preorder orders in the shop")
    p.add_argument("--offers", type=int, default=12, help="preorder offers in the shop")
    p.add_argument(
        "--per-page-max", type=int, default=100, help="largest per_page served (larger: clamped)"
    )
    p.add_argument(
        "--state-filter", choices=("post_fetch", "pre_fetch"), default="post_fetch",
        help="apply the orders `state` filter after paging (short pages) or before it",
    )  # fmt: skip
    p.add_argument(
        "--rate-limit-points", type=int, default=360, help="points per rolling 60 s window"
    )
    p.add_argument(
        "--rate-limit-body", choices=("v1", "errors"), default="v1",
        help="429 body shape: v1 {error, message, retry_after} or {errors: [...]}",
    )  # fmt: skip
    p.add_argument("--job-steps", type=int, default=4, help="polls a bulk or export job takes")
    p.add_argument("--latency-ms", type=int, default=0, help="added to every answer (ms)")
    for flag, kind, meaning in (
        ("5xx", float, "share of requests answered 5xx (0-1)"),
        ("429", float, "share of requests starting a burst of 429s (0-1)"),
        ("drop", float, "share of connections dropped before answering (0-1)"),
        ("truncate", float, "share of answers cut short (0-1)"),
        ("drop-after-apply", float, "share of writes applied, then dropped (0-1)"),
        ("latency-ms", int, "random extra latency per request (ms)"),
        ("jitter-ms", int, "jitter on that latency (ms)"),
    ):
        p.add_argument(f"--chaos-{flag}", type=kind, default=0, help=meaning)
    p.add_argument("--drift", type=int, default=0, help="new orders per drift step")
    p.add_argument("--drift-every", type=int, default=1, help="list-orders requests per step")
    p.add_argument(
        "--state", metavar="FILE",
        help="keep the shop in this JSON file: serve the shop saved there (its --seed, --orders"
        " and --offers win), else seed one and write it; every change is saved back (with"
        " --shops, shop k >= 2 in FILE's name + -shop<k>)",
    )  # fmt: skip
    p.add_argument(
        "--shops", type=int, default=1, metavar="N",
        help="serve N shops on this one port, each with its own key, data (seed + k - 1) and"
        " rate window; prints every shop's key and a PREORDERS_SHOPS file for them",
    )  # fmt: skip
    p.add_argument(
        "--same-ids", action="store_true",
        help="every shop holds the same order ids (the rest of its data its own)",
    )  # fmt: skip
    p.set_defaults(handler=run)


def config_from(args: argparse.Namespace) -> SandboxConfig:
    """The SandboxConfig the flags describe."""
    from sandbox import ChaosConfig, SandboxConfig  # late: every command builds this parser

    chaos = ChaosConfig(**{field: getattr(args, flag) for flag, field in CHAOS_FLAGS.items()})
    return SandboxConfig(
        seed=args.seed,
        orders=args.orders,
        offers=args.offers,
        per_page_max=args.per_page_max,
        state_filter=args.state_filter,
        rate_limit_points=args.rate_limit_points,
        rate_limit_body=args.rate_limit_body,
        job_steps=args.job_steps,
        latency_ms=args.latency_ms,
        chaos=chaos,
    )


def run(args: argparse.Namespace) -> int:
    """Build (or load) the shops, print where they listen and their keys, serve until Ctrl-C."""
    import uvicorn

    from pipelines.cli_support import USAGE, fail
    from sandbox import BASE_PATH, Shop, Shops, create_app
    from sandbox.server import quiet_simulated_drops
    from sandbox.shops import MAX_SHOPS, state_path
    from sandbox.state import SavedShop, StateFileError

    if not 1 <= args.shops <= MAX_SHOPS:
        return fail("sandbox", f"--shops {args.shops}: serve 1 to {MAX_SHOPS} shops", USAGE)
    wanted = config_from(args)

    def make(k: int, config: SandboxConfig) -> Shop:
        if not args.state:
            return Shop(config)
        saved = SavedShop.open(state_path(args.state, k), config)
        how = "loaded from" if saved.loaded else "new, saved to"
        where = f"{saved.path.resolve()} (every change is saved there)"
        print(f"state:    {how} {where}" if args.shops == 1 else f"state:    shop{k} {how} {where}")
        return saved

    try:
        shops = Shops.seeded(args.shops, wanted, same_ids=args.same_ids, make=make)
    except (OSError, StateFileError) as exc:
        return fail("sandbox", f"--state {args.state}: {exc}", USAGE)
    base_url = f"http://{args.host}:{args.port}{BASE_PATH}"
    print("\n".join(banner(shops, base_url)))
    control = f"http://{args.host}:{args.port}/_sandbox/"
    if len(shops) > 1:
        control += "  (shop1's; shops/<name>/ for another's)"
    print(f"control:  {control}  (truth, log, mutate, chaos)", flush=True)  # before uvicorn's lines
    app = create_app(shops if len(shops) > 1 else shops.first)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info", lifespan="off")
    quiet_simulated_drops()
    uvicorn.Server(config).run()
    return 0


def banner(shops: Shops, base_url: str) -> list[str]:
    """What `preorders sandbox` prints about its shops: the data, the base URL and the keys; for
    several, each shop's line, a PREORDERS_SHOPS file and the lines exporting its keys."""
    if len(shops) == 1:
        shop = shops.first
        return [
            f"STOQ sandbox: {len(shop.orders)} orders, {len(shop.offers)} offers"
            f" (seed {shop.config.seed})",
            f"base URL: {base_url}",
            f"API key:  {shops.key('shop1')}",
        ]
    lines = [f"STOQ sandbox: {len(shops)} shops on one port", f"base URL: {base_url}"]
    for name, shop in shops:
        lines.append(
            f"shop:     {name}  key {shops.key(name)}  {len(shop.orders)} orders,"
            f" {len(shop.offers)} offers (seed {shop.config.seed})"
        )
    lines.append("# A PREORDERS_SHOPS file for these shops (e.g. save it as shops.yaml):")
    lines += shops.shops_file(base_url).splitlines()
    lines.append("# Their keys, and the file:")
    lines += shops.export_lines()
    lines.append("export PREORDERS_SHOPS=shops.yaml")
    return lines
