"""`preorders export REPORT`: export a report as CSV through STOQ and load it into DuckDB."""

from __future__ import annotations

import argparse

from pipelines.cli_args import seconds
from pipelines.cli_support import add_shop_arg, run_guarded, shop_client


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `export` subcommand."""
    p = subparsers.add_parser("export", help="Export a report into DuckDB table export_<name>.")
    p.add_argument("report", help="a name from the live catalog: summary, revenue, by_date, ...")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="window start (inclusive)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="window end (inclusive)")
    p.add_argument("--offer-id", metavar="UUID", help="limit to one offer")
    p.add_argument("--timeout", type=seconds, default=600.0, help="give up polling after S seconds")
    p.add_argument("--interval", type=seconds, default=1.0, help="first poll interval (s)")
    add_shop_arg(p)
    p.set_defaults(handler=lambda a: run_guarded("export", lambda: export(a)))


def export(args: argparse.Namespace) -> None:
    """Submit (or re-attach), poll, download and load; say what happened (--quiet: the result)."""
    from preorders.exports import ExportRequest, fetch_and_load, submit
    from preorders.jobtracking import track_job
    from preorders.settings import warehouse_from_env

    request = ExportRequest(args.report, args.date_from, args.date_to, args.offer_id)
    warehouse = warehouse_from_env()
    with shop_client(args.shop) as (shop, client):
        with warehouse.connect() as conn:
            log = None if args.quiet else print
            handle = submit(client, conn, request, log=log, shop=shop.name)
        # The file is opened per poll, not held, so a Dagster run can still write meanwhile.
        status = track_job(
            client,
            warehouse.connect,
            handle,
            timeout=args.timeout,
            initial_interval=args.interval,
            progress=args.progress,
            shop=shop.name,
        )
    with warehouse.connect() as conn:
        rows = fetch_and_load(conn, request.report, status, shop=shop.name)
    print(f"loaded {rows} row(s) into {request.table} in {warehouse.path}")
