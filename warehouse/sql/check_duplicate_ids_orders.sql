-- Rows sharing a (shop, id) in orders (the primary key should make this 0).
select count(*) - count(distinct (shop, id)) from orders;
