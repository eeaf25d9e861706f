-- Before finish (read only): how many offers mark_missing will flag, given the ids seen ($ids).
select count(*)
from offers
where shop = $shop
  and missing_since is null
  and not exists (select 1 from read_parquet($ids) as s where s.id = offers.id);
