-- Orders the releasable_orders view holds, oldest first, with their fingerprint.
select r.id as order_id, md5(o.raw::varchar) as fingerprint, o.created_at
from releasable_orders r
join orders o on o.id = r.id
order by r.created_at, r.id;
