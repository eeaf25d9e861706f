-- Dashboard: how many orders were in each state at the end of each UTC day (an as-of series).
-- Grain: one row per (day, state) for every day from the first observation to today (UTC) and
-- every state ever observed; days with no order in a state read 0, so the series has no gaps.
-- An order's state on a day is the last state order_state_history holds for it at or before
-- that day's end. History is written by syncs, so a change is dated to the sync that saw it and
-- an order enters the series on the day a sync first saw it (not on its created_at).
-- open_state: the state is part of the backlog (not fulfilled / cancelled / refunded).
create or replace view report_backlog_over_time as
with daily as (
    -- the last state each order was seen in on each day it was observed
    select
        order_id,
        timezone('UTC', observed_at)::date as day,
        arg_max(state, observed_at) as state
    from order_state_history
    group by order_id, timezone('UTC', observed_at)::date
),
spans as (
    -- the state holds from `day` until (excluding) the next day it changed
    select
        order_id,
        state,
        day,
        lead(day) over (partition by order_id order by day) as next_day
    from daily
),
deltas as (
    select day, state, count(*) as delta from spans group by day, state
    union all
    select next_day, state, -count(*) from spans where next_day is not null group by next_day, state
),
bounds as (
    select min(day) as first_day, greatest(max(day), timezone('UTC', now())::date) as last_day
    from daily
),
days as (
    select unnest(generate_series(first_day, last_day, interval 1 day))::date as day from bounds
),
grid as (
    select d.day, s.state
    from days d cross join (select distinct state from order_state_history) s
)
select
    g.day,
    g.state,
    g.state not in ('fulfilled', 'cancelled', 'refunded') as open_state,
    (sum(coalesce(x.delta, 0)) over (
        partition by g.state order by g.day rows between unbounded preceding and current row
    ))::bigint as orders
from grid g
left join (select day, state, sum(delta) as delta from deltas group by day, state) x
    on x.day = g.day and x.state = g.state;
