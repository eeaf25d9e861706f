-- Row counts of the synced tables, for run metadata and the CLI summary: $shop's rows, or every
-- shop's when $shop is null.
select 'offers' as name, count(*) as n from offers where $shop is null or shop = $shop
union all select 'offer_variants', count(*) from offer_variants where $shop is null or shop = $shop
union all select 'orders', count(*) from orders where $shop is null or shop = $shop
union all
select 'order_line_items', count(*) from order_line_items where $shop is null or shop = $shop;
