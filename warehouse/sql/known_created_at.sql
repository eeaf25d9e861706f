-- created_at of every order still returned by the API, oldest first: a window walk from any
-- instant pages through exactly the orders at or after it (the sync planner's cost model).
select created_at
from orders
where shop = $shop and not missing_from_api
order by created_at;
