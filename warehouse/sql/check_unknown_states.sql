-- Orders whose derived state is outside the documented set ($states), counted per state.
select state, count(*) as orders
from orders
where not list_contains($states, state)
group by state
order by state;
