-- Record how a planned/sent/unknown row of one shop ended.
update order_actions
set status = $status,
    http_status = coalesce($http_status, http_status),
    hint = coalesce($hint, hint),
    note = $note,
    job_id = coalesce($job_id, job_id),
    settled_at = $now
where shop = $shop and key = $key and status in ('planned', 'sent', 'unknown');
