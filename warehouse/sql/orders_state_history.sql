-- A history row for each order whose state differs from the one stored (first sighting included).
-- orders.state always equals the latest history row: both are written in the same transaction.
-- Seen twice in one sync with different states: the later sighting wins for that observed_at.
insert into order_state_history (shop, order_id, state, observed_at)
select $shop, id, state, $synced_at
from _orders_delta
where previous_state is distinct from state
on conflict (shop, order_id, observed_at) do update set state = excluded.state;
