-- Orders still returned by the API next to the total_count the last complete walk reported.
select
    (select count(*) from orders where not missing_from_api) as live_orders,
    (select last_total_count from sync_state where stream = 'orders') as api_total_count;
