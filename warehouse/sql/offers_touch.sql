-- Offers staged unchanged (same raw JSON) only advance last_synced_at; seen, they are not missing.
update offers
set last_synced_at = $synced_at, missing_since = null
where shop = $shop and id in (select id from _offers_delta where action = 'unchanged');
