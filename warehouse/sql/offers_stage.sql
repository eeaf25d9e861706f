-- Classify the registered chunk (_offers_chunk): insert, update (raw JSON changed) or unchanged.
create or replace temp table _offers_delta as
select
    c.id,
    case
        when o.id is null then 'insert'
        when o.raw::varchar = c.raw then 'unchanged'
        else 'update'
    end as action
from _offers_chunk as c
left join offers as o on o.id = c.id;
