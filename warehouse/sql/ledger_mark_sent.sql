-- Committed right before the POST: from here on the outcome is settled by reading the order back.
update order_actions
set status = 'sent', sent_at = $now, job_id = coalesce($job_id, job_id)
where list_contains($keys, key) and status = 'planned' and not dry_run
returning key;
