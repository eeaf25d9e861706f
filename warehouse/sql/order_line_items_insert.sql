-- Insert the line items of new and changed orders from the registered chunk.
insert into order_line_items (
    order_id, line_index, shopify_variant_id, shopify_product_id, offer_id, quantity, title, sku,
    price
)
select
    l.order_id,
    l.line_index,
    l.shopify_variant_id,
    l.shopify_product_id,
    l.offer_id,
    l.quantity,
    l.title,
    l.sku,
    l.price::decimal(18, 2)
from _line_items_chunk as l
where l.order_id in (select id from _orders_delta where action <> 'unchanged');
