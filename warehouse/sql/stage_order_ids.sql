-- Order ids of one mark_missing / mark_missing_ids call (_chunk), for one Parquet file.
select id::bigint as id from _chunk;
