-- Ledger rows, oldest first, optionally for one order and/or action.
select *
from order_actions
where ($order_id is null or order_id = $order_id)
    and ($action is null or action = $action)
order by planned_at, key;
