-- Orders the sync planner must re-read each run: non-terminal states still returned by the API.
select id, created_at, state
from orders
where state in ('placed', 'awaiting_balance', 'balance_collected', 'released')
  and not missing_from_api
  and shop = $shop
order by created_at, id;
