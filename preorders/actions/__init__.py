"""Release held orders and charge balances exactly once, through the `order_actions` ledger.

Plain Python, no Dagster: the `release_orders` / `collect_balances` jobs and the `preorders
release` / `preorders charge` commands all call `release` / `charge`.

    plan = plan_release(conn, limit=10)               # what would go out (no writes)
    outcomes = release(client, conn, dry_run=False)   # list[Outcome], one per order
    release(eu_client, conn, shop="eu")               # one shop: its key, its rows only

Per order: the `planned` row is committed (the claim: a key another run holds is skipped), the
order is read again (all claimed orders in one batch: a created-at window walk and/or concurrent
GETs, whichever costs fewer requests) and skipped unless it is still held and fully paid, the
row is committed as `sent`, then the POST goes out. A lost response (timeout, dropped
connection, 5xx) is settled by reading the order back, never by posting again; rows an earlier
run left open are settled that way before anything new is sent. Many orders go out as one
`bulk_release` job (persisted in `jobs` before polling), after which every order of the batch is
read back, because the job swallows per-item failures. `force` is sent only when asked for with
a reason (`rules.force_reason`, the one place that rule lives). A release that failed without
effect (5xx, timeout: read back as not applied) goes out again on a later run once its backoff
has passed (`ActionSettings.retry_backoff`, at most `max_attempts`); a refusal (409, or another
4xx) never does. Every releasable order a run does not send is named with why.

Modules: `rules` (checks, read-back tests, settings, the force rule), `plans` (warehouse only),
`runs` (the entry points), `settling` (rows earlier runs left open), `reads` (batched order
reads), `sending` (POSTs, the bulk job, read-back), `outcomes` (what a run reports), `review`
and `explain` (the ledger as an operator sees it: why each row waits, what unblocks it; what a
run leaves waiting), `operator` (settling a row by hand, with who and why).

Every entry point takes `shop` (default `default`): a run is one shop's, with that shop's client;
ledger keys and job ids are unique per shop only, so every ledger and jobs row it reads or writes
is matched on (shop, key) / (shop, job_id).
"""

from preorders.actions.outcomes import Log, Outcome, RunOutcomes, counts, summary
from preorders.actions.plans import plan_charges, plan_release
from preorders.actions.reads import OrderReads, read_orders
from preorders.actions.rules import (
    CHARGE,
    FORCEABLE,
    NOT_APPLIED,
    RELEASE,
    RELEASED,
    SPECS,
    ActionSettings,
    ForceWithoutReason,
    ReasonWithoutForce,
    Spec,
    charge_blocker,
    force_reason,
    money,
    release_blocker,
)
from preorders.actions.runs import charge, release
from preorders.actions.settling import settle_open_rows

__all__ = [
    "CHARGE",
    "FORCEABLE",
    "NOT_APPLIED",
    "RELEASE",
    "RELEASED",
    "SPECS",
    "ActionSettings",
    "ForceWithoutReason",
    "Log",
    "OrderReads",
    "Outcome",
    "ReasonWithoutForce",
    "RunOutcomes",
    "Spec",
    "charge",
    "charge_blocker",
    "counts",
    "force_reason",
    "money",
    "plan_charges",
    "plan_release",
    "read_orders",
    "release",
    "release_blocker",
    "settle_open_rows",
    "summary",
]
