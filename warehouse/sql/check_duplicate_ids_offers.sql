-- Rows sharing a (shop, id) in offers, of $shop or of every shop when null (the primary key
-- should make this 0).
select count(*) - count(distinct (shop, id)) from offers where $shop is null or shop = $shop;
