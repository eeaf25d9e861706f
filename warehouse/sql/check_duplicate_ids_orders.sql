-- Rows sharing a (shop, id) in orders, of $shop or of every shop when null (the primary key
-- should make this 0).
select count(*) - count(distinct (shop, id)) from orders where $shop is null or shop = $shop;
