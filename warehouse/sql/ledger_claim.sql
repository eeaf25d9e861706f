-- Claim a key in one shop: the planned row is the lock. No row back means someone else owns the
-- key (the primary key is (shop, key): another shop's same key never blocks it).
insert into order_actions (
    shop, key, order_id, action, status, attempt, forced, force_reason, dry_run, dagster_run_id,
    order_fingerprint, planned_at
)
values (
    $shop, $key, $order_id, $action, 'planned', $attempt, $forced, $force_reason, $dry_run,
    $run_id, $fingerprint, $now
)
on conflict do nothing
returning key;
