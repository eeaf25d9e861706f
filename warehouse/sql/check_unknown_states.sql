-- Orders whose derived state is outside the documented set ($states), counted per state, of
-- $shop or of every shop when null.
select state, count(*) as orders
from orders
where not list_contains($states, state) and ($shop is null or shop = $shop)
group by state
order by state;
