-- Orders staged unchanged (same raw JSON) only advance last_synced_at; seen, they are not missing.
update orders
set last_synced_at = $synced_at, missing_from_api = false, missing_since = null
where shop = $shop and id in (select id from _orders_delta where action = 'unchanged');
