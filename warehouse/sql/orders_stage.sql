-- Classify the staged orders ($orders: the stage's Parquet files) against the shop's rows before
-- merging them. The latest version of each order (highest file number) is an insert (new id),
-- update (raw JSON changed: compared by md5, so no raw text is held in a hash table) or
-- unchanged; the previous state is kept for the history. Only this narrow table is
-- materialised: each step re-reads the staged rows from Parquet.
create or replace temp table _orders_delta as
with latest as (
    select id, max(_seq) as _seq from read_parquet($orders) group by id
)
select
    s.id,
    s._seq,
    case
        when o.id is null then 'insert'
        when o.raw_md5 = md5_number(s.raw) then 'unchanged'
        else 'update'
    end as action,
    o.state as previous_state,
    s.state
from read_parquet($orders) as s
join latest as l on l.id = s.id and l._seq = s._seq
left join (
    select id, state, md5_number(raw::varchar) as raw_md5 from orders where shop = $shop
) as o
    on o.id = s.id;
