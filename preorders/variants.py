"""Bulk variant jobs (SPEC §4, §7.1): recount preorder counts, reset or sync metafields.

`submit_variant_job` submits one such job, or re-attaches to the one a crashed run left open,
saving it in `jobs` first; the `bulk_variant_admin` job then polls it through
`preorders.jobtracking`. The job is saved as `shop`'s (default `default`), the shop whose client
submits it.
"""

from collections.abc import Callable

import duckdb

from preorders.jobtracking import batch_key, submit_or_attach
from stoq import JobHandle, StoqClient
from warehouse.migrate import DEFAULT_SHOP

VARIANT_JOBS = (
    "bulk_recalculate_preorder_counts",
    "bulk_reset_metafields",
    "bulk_sync_metafields",
)


def submit_variant_job(
    client: StoqClient,
    conn: duckdb.DuckDBPyConnection,
    action: str,
    variant_ids: list[int] | None = None,
    *,
    run_id: str | None = None,
    log: Callable[[str], None] | None = None,
    shop: str = DEFAULT_SHOP,
) -> JobHandle:
    """Submit `action` for `shop`'s variants (None: every attached variant), or re-attach to
    that shop's job."""
    if action not in VARIANT_JOBS:
        raise ValueError(
            f"unknown variant job {action!r}; expected one of {', '.join(VARIANT_JOBS)}"
        )
    ids = sorted(set(variant_ids)) if variant_ids else None
    return submit_or_attach(
        client,
        conn,
        batch_key("bulk_variants", action=action, variant_ids=ids),
        lambda: client.bulk_variant_action(action, ids),
        "bulk_variants",
        run_id=run_id,
        log=log,
        shop=shop,
    )
