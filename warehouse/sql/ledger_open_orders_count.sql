-- Open preorder orders (the backlog): not fulfilled / cancelled / refunded, still in the API.
select count(*)
from orders
where shop = $shop and state not in ('fulfilled', 'cancelled', 'refunded') and not missing_from_api;
