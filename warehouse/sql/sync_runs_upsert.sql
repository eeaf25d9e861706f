-- Record what one run did for one stream (a retried run overwrites its row).
insert or replace into sync_runs (
    shop, run_id, stream, mode, pages, requests, retries, rate_limited, rows_inserted, rows_updated,
    rows_unchanged, rows_rejected, rows_missing, drift, started_at, finished_at, outcome, message
) values (
    $shop, $run_id, $stream, $mode, $pages, $requests, $retries, $rate_limited, $rows_inserted,
    $rows_updated, $rows_unchanged, $rows_rejected, $rows_missing, $drift, $started_at,
    $finished_at, $outcome, $message
);
