-- The open backlog per state and currency (from the preorder_backlog view), for the demo and CLI
-- reports; money is never summed across currencies. Orders are counted once per offer there, so
-- orders here may exceed distinct open orders.
select
    state,
    currency,
    sum(orders)::bigint as orders,
    sum(units)::bigint as units,
    sum(deposit_collected)::decimal(18, 2) as deposit_collected,
    sum(outstanding)::decimal(18, 2) as outstanding
from preorder_backlog
group by state, currency
order by
    list_position(['placed', 'awaiting_balance', 'balance_collected', 'released'], state), state,
    currency nulls last;
