-- Offer ids of one mark_missing call (_chunk), for one Parquet file.
select id::varchar as id from _chunk;
