-- Classify the registered chunk (_orders_chunk) against the table before merging it:
-- insert (new id), update (raw JSON changed) or unchanged, keeping the previous state.
-- Only this small table is materialised: a temp table dropped inside a transaction keeps its
-- memory until COMMIT, so the chunk itself is read straight from the registered frame.
create or replace temp table _orders_delta as
select
    c.id,
    case
        when o.id is null then 'insert'
        when o.raw::varchar = c.raw then 'unchanged'
        else 'update'
    end as action,
    o.state as previous_state,
    c.state
from _orders_chunk as c
left join orders as o on o.id = c.id;
