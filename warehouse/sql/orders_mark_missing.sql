-- Full reconcile of one shop ($shop; never another's): flag (never delete) orders the walk did not see ($ids: a staged Parquet file
-- of the ids seen); keeps the first missing_since of orders already flagged.
update orders
set missing_from_api = true, missing_since = $synced_at
where shop = $shop
  and not missing_from_api
  and not exists (select 1 from read_parquet($ids) as s where s.id = orders.id);
