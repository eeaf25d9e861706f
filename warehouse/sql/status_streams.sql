-- Per stream (offers, orders) of one shop ($shop): its last sync run, when it last succeeded, its cursor and the rows
-- its table holds now. A stream never synced still gets its row (nulls, and its table's rows).
with streams as (
    select 'offers' as stream, (select count(*) from offers where shop = $shop) as table_rows
    union all
    select 'orders', (select count(*) from orders where shop = $shop)
),
last_run as (
    select stream, run_id, mode, outcome, started_at, finished_at, message
    from sync_runs
    where shop = $shop
    qualify row_number() over (partition by stream order by finished_at desc, run_id desc) = 1
),
last_success as (
    select stream, max(finished_at) as finished_at
    from sync_runs
    where shop = $shop and outcome = 'succeeded'
    group by stream
)
select
    s.stream,
    r.run_id,
    r.mode,
    r.outcome,
    r.started_at,
    r.finished_at,
    r.message,
    ok.finished_at as last_success_at,
    st.high_water_mark,
    st.last_total_count,
    s.table_rows
from streams s
left join last_run r on r.stream = s.stream
left join last_success ok on ok.stream = s.stream
left join sync_state st on st.shop = $shop and st.stream = s.stream
order by s.stream;
