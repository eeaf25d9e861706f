-- Classify the staged offers ($offers: the stage's Parquet files) against the table: the latest
-- version of each offer (highest file number) is an insert, update (raw JSON changed; compared
-- by md5, so no raw text is held in a hash table) or unchanged. Only this table is materialised.
create or replace temp table _offers_delta as
with latest as (
    select id, max(_seq) as _seq from read_parquet($offers) group by id
)
select
    s.id,
    s._seq,
    case
        when o.id is null then 'insert'
        when o.raw_md5 = md5_number(s.raw) then 'unchanged'
        else 'update'
    end as action,
    s.has_variant_list
from read_parquet($offers) as s
join latest as l on l.id = s.id and l._seq = s._seq
left join (select id, md5_number(raw::varchar) as raw_md5 from offers where shop = $shop) as o
    on o.id = s.id;
