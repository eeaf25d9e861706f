-- Named orders with their fingerprint (any state: the caller checks the live order).
select id as order_id, md5(raw::varchar) as fingerprint, created_at
from orders
where list_contains($ids, id)
order by created_at, id;
