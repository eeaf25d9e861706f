-- Dashboard: the connector's writes per UTC day, by action and outcome, from the order_actions
-- ledger. Grain: one row per (shop, day, action, status, dry_run) that has at least one ledger row.
-- day: the UTC date the action was planned (planned_at); status: its outcome now (planned | sent |
-- succeeded | rejected | failed | unknown | skipped; dry-run rows stay planned).
-- actions: ledger rows; orders: distinct orders; forced: rows sent with force=true.
create or replace view report_actions_per_day as
select
    shop,
    timezone('UTC', planned_at)::date as day,
    action,
    status,
    dry_run,
    count(*) as actions,
    count(distinct order_id) as orders,
    count(*) filter (where forced) as forced
from order_actions
group by all;
