-- Rows sharing an id in offers (the primary key should make this 0).
select count(*) - count(distinct id) from offers;
