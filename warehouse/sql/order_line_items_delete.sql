-- Drop the line items of orders whose record changed; they are re-inserted from the chunk.
delete from order_line_items
where shop = $shop
  and order_id in (select id from _orders_delta where action = 'update');
