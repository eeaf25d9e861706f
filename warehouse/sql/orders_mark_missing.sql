-- Full reconcile: flag (never delete) orders the walk did not see (_seen_ids); keeps the first
-- missing_since of orders already flagged.
update orders
set missing_from_api = true, missing_since = $synced_at
where not missing_from_api
  and not exists (select 1 from _seen_ids as s where s.id = orders.id);
