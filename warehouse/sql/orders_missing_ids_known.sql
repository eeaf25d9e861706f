-- Before finish (read only): which of these ids ($ids) are orders not yet flagged missing.
select id
from orders
where shop = $shop
  and not missing_from_api
  and id in (select id from read_parquet($ids));
