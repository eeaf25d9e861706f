-- Flag (never delete) the given orders ($ids: a staged Parquet file) missing_from_api, e.g. a
-- per-order GET that answered 404; keeps the first missing_since of orders already flagged.
update orders
set missing_from_api = true, missing_since = $synced_at
where shop = $shop
  and not missing_from_api
  and id in (select id from read_parquet($ids));
