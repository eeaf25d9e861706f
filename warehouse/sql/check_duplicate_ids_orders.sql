-- Rows sharing an id in orders (the primary key should make this 0).
select count(*) - count(distinct id) from orders;
