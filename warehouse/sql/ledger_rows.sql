-- Ledger rows of one shop (every shop: $shop null), oldest first, optionally for one order
-- and/or action.
select *
from order_actions
where ($shop is null or shop = $shop)
    and ($order_id is null or order_id = $order_id)
    and ($action is null or action = $action)
order by planned_at, shop, key;
