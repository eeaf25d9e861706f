-- created_at of every order the API still returns, oldest first: a created-at window walk pages
-- through exactly the known orders inside it (the cost model of the batched re-read).
select created_at
from orders
where shop = $shop and not missing_from_api
order by created_at;
