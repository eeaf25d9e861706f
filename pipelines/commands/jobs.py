"""`preorders jobs poll STATUS_URL`: poll a STOQ async job to its end, a line per change.

With --quiet only the last status line (and the download URL of an export) prints. Progress
(a live bar on a terminal, else a line at most every 10 s on stderr) says it is still polling.
Every status is recorded in the `jobs` table ($PREORDERS_DUCKDB_PATH) like the `poll_job` op
does: both call `preorders.jobtracking`.
"""

from __future__ import annotations

import argparse

from pipelines.cli_args import seconds
from pipelines.cli_support import add_shop_arg, open_warehouse, run_guarded, scrub, shop_client


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `jobs` subcommand."""
    p = subparsers.add_parser("jobs", help="Poll STOQ async jobs.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    poll = verbs.add_parser(
        "poll", help="Poll a job's status_url until it finishes, recording it in table jobs."
    )
    poll.add_argument("status_url", help="the status_url exactly as the API returned it")
    poll.add_argument("--timeout", type=seconds, default=600.0, help="give up after S seconds")
    poll.add_argument("--interval", type=seconds, default=1.0, help="first poll interval (s)")
    add_shop_arg(poll)
    poll.set_defaults(handler=lambda a: run_guarded("jobs poll", lambda: poll_status_url(a)))


def poll_status_url(args: argparse.Namespace) -> int:
    """Poll with backoff, recording each status; print each change; Job* errors exit 1."""
    from preorders.jobtracking import track_status_url
    from stoq import JobStatus

    last: list[tuple[str, object]] = []

    def line(status: JobStatus) -> str:
        counts = f" ({status.processed}/{status.total})" if status.total is not None else ""
        return scrub(f"job {status.job_id}: {status.status} {status.progress}%{counts}")

    def show(status: JobStatus) -> None:
        if last and last[-1] == (status.status, status.progress):
            return
        last.append((status.status, status.progress))
        if not args.quiet:
            print(line(status), flush=True)

    with shop_client(args.shop) as (shop, client):
        # The file is opened per status, not held, so a Dagster run can still write meanwhile.
        final = track_status_url(
            client,
            open_warehouse,
            args.status_url,
            timeout=args.timeout,
            stall_timeout=args.timeout,
            initial_interval=args.interval,
            on_status=show,
            progress=args.progress,
            shop=shop.name,
        )
    if args.quiet:
        print(line(final))
    if final.download_url:
        print(scrub(f"download: {final.download_url}"))
    return 0
