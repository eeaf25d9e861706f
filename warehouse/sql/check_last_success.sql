-- When a stream last finished a successful sync (null when it never did).
select max(finished_at) from sync_runs where stream = $stream and outcome = 'succeeded';
