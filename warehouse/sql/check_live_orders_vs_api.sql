-- One shop's ($shop) orders still returned by the API next to the total_count the last walk reported. A record
-- that walk saw but could not store (its key in _rejects for the run that wrote sync_state) was
-- still seen: it counts as live unless the order is already counted.
with state as (
    select last_total_count, last_run_id from sync_state where shop = $shop and stream = 'orders'
),
live as (
    select id::varchar as record_key from orders where shop = $shop and not missing_from_api
)
select
    (select count(*) from live)
    + (
        select count(distinct r.record_key)
        from _rejects as r
        join state as s on r.run_id = s.last_run_id
        where r.shop = $shop and r.stream = 'orders' and r.record_key not in (select record_key from live)
    ) as live_orders,
    (select last_total_count from state) as api_total_count;
