-- Advance a stream's cursor. The high-water mark never moves backwards; nulls keep old values.
-- Except a stored mark past $mark_ceiling (the sync's start plus the clock skew it allows): no
-- sync can have seen an order created after it ran, so a wrong clock wrote it, and the new mark
-- of a walk that proved complete replaces it.
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
    high_water_mark = case
        when sync_state.high_water_mark > $mark_ceiling and excluded.high_water_mark is not null
            then excluded.high_water_mark
        else greatest(excluded.high_water_mark, sync_state.high_water_mark)
    end,
    last_full_at = coalesce(excluded.last_full_at, sync_state.last_full_at),
    last_incremental_at = coalesce(excluded.last_incremental_at, sync_state.last_incremental_at),
    last_total_count = coalesce(excluded.last_total_count, sync_state.last_total_count),
    last_run_id = excluded.last_run_id,
    updated_at = excluded.updated_at;
