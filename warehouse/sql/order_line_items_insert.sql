-- Insert the line items of new and changed orders: those staged with the order version kept
-- ($line_items: the stage's Parquet files; same file number as their order).
insert into order_line_items (
    shop, order_id, line_index, shopify_variant_id, shopify_product_id, offer_id, quantity, title, sku,
    price
)
select
    $shop,
    l.order_id,
    l.line_index,
    l.shopify_variant_id,
    l.shopify_product_id,
    l.offer_id,
    l.quantity,
    l.title,
    l.sku,
    l.price::decimal(18, 2)
from read_parquet($line_items) as l
join _orders_delta as d on d.id = l.order_id and d._seq = l._seq
where d.action <> 'unchanged';
