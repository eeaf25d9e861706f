-- One stream's cursor.
select stream, high_water_mark, last_full_at, last_incremental_at, last_total_count, last_run_id,
    updated_at
from sync_state
where shop = $shop and stream = $stream;
