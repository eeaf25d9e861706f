-- Advance a stream's cursor. The high-water mark never moves backwards; nulls keep old values.
insert into sync_state (
    shop, stream, high_water_mark, last_full_at, last_incremental_at, last_total_count, last_run_id,
    updated_at
) values (
    $shop,
    $stream,
    $high_water_mark,
    case when $mode = 'full' then $synced_at end,
    case when $mode = 'incremental' then $synced_at end,
    $total_count,
    $run_id,
    $synced_at
)
on conflict (shop, stream) do update set
    high_water_mark = greatest(excluded.high_water_mark, sync_state.high_water_mark),
    last_full_at = coalesce(excluded.last_full_at, sync_state.last_full_at),
    last_incremental_at = coalesce(excluded.last_incremental_at, sync_state.last_incremental_at),
    last_total_count = coalesce(excluded.last_total_count, sync_state.last_total_count),
    last_run_id = excluded.last_run_id,
    updated_at = excluded.updated_at;
