-- Dashboard: how many orders were in each state at the end of each UTC day (an as-of series).
-- Grain: one row per (shop, day, state) for every day from the first observation to today (UTC) and
-- every state ever observed; days with no order in a state read 0, so the series has no gaps.
-- An order's state on a day is the last state order_state_history holds for it at or before
-- that day's end. History is written by syncs, so a change is dated to the sync that saw it and
-- an order enters the series on the day a sync first saw it (not on its created_at).
-- open_state: the state is part of the backlog (not fulfilled / cancelled / refunded).
create or replace view report_backlog_over_time as
with daily as (
    -- the last state each order was seen in on each day it was observed
    select
        shop,
        order_id,
        timezone('UTC', observed_at)::date as day,
        arg_max(state, observed_at) as state
    from order_state_history
    group by shop, order_id, timezone('UTC', observed_at)::date
),
spans as (
    -- the state holds from `day` until (excluding) the next day it changed
    select
        shop,
        order_id,
        state,
        day,
        lead(day) over (partition by shop, order_id order by day) as next_day
    from daily
),
deltas as (
    select shop, day, state, count(*) as delta from spans group by shop, day, state
    union all
    select shop, next_day, state, -count(*)
    from spans where next_day is not null group by shop, next_day, state
),
bounds as (
    select shop, min(day) as first_day, greatest(max(day), timezone('UTC', now())::date) as last_day
    from daily
    group by shop
),
days as (
    select shop, unnest(generate_series(first_day, last_day, interval 1 day))::date as day
    from bounds
),
grid as (
    select d.shop, d.day, s.state
    from days d join (select distinct shop, state from order_state_history) s on s.shop = d.shop
)
select
    g.shop,
    g.day,
    g.state,
    g.state not in ('fulfilled', 'cancelled', 'refunded') as open_state,
    (sum(coalesce(x.delta, 0)) over (
        partition by g.shop, g.state order by g.day rows between unbounded preceding and current row
    ))::bigint as orders
from grid g
left join (
    select shop, day, state, sum(delta) as delta from deltas group by shop, day, state
) x
    on x.shop = g.shop and x.day = g.day and x.state = g.state;
