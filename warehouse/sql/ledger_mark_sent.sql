-- Committed right before the POST: from here on the outcome is settled by reading the order back.
-- `bulk` marks rows carried by a bulk job, whose effect may land long after the submission.
update order_actions
set status = 'sent', sent_at = $now, job_id = coalesce($job_id, job_id), bulk = $bulk
where shop = $shop and list_contains($keys, key) and status = 'planned' and not dry_run
returning key;
