-- One poll's answer (or why tracking stopped) for one shop's job; finished_at is kept from the
-- first terminal one.
update jobs set
    last_status    = coalesce($status, last_status),
    last_progress  = coalesce($progress, last_progress),
    last_polled_at = $polled_at,
    finished_at    = case when $terminal then coalesce(finished_at, $polled_at) else finished_at end,
    error          = $error,                -- a fresh poll clears a stale timeout note
    download_url   = coalesce($download_url, download_url),
    raw            = coalesce($raw::json, raw)
where shop = $shop and job_id = $job_id;
