-- One shop's ($shop) real (not dry-run) ledger rows still open ($statuses: planned, sent, unknown), per action and
-- status, with when the oldest of them was sent (or planned, when it never was).
select action, status, count(*) as row_count, min(coalesce(sent_at, planned_at)) as oldest
from order_actions
where shop = $shop and not dry_run and list_contains($statuses, status)
group by action, status
order by action, status;
