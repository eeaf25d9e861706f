-- Before finish (read only): how many orders mark_missing will flag, given the ids seen ($ids).
select count(*)
from orders
where shop = $shop
  and not missing_from_api
  and not exists (select 1 from read_parquet($ids) as s where s.id = orders.id);
