-- Claim a key: the planned row is the lock. No row back means someone else owns the key.
insert into order_actions (
    key, order_id, action, status, attempt, forced, force_reason, dry_run, dagster_run_id,
    order_fingerprint, planned_at
)
values (
    $key, $order_id, $action, 'planned', $attempt, $forced, $force_reason, $dry_run, $run_id,
    $fingerprint, $now
)
on conflict do nothing
returning key;
