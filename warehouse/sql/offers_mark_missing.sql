-- Flag (never delete) offers the full walk did not see ($ids: a staged Parquet file of the ids
-- seen); keeps the first missing_since.
update offers
set missing_since = $synced_at
where shop = $shop
  and missing_since is null
  and not exists (select 1 from read_parquet($ids) as s where s.id = offers.id);
