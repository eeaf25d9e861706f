-- Rows sharing a (shop, id) in offers (the primary key should make this 0).
select count(*) - count(distinct (shop, id)) from offers;
