-- Row counts of the synced tables, for run metadata and the CLI summary.
select 'offers' as name, count(*) as n from offers
union all select 'offer_variants', count(*) from offer_variants
union all select 'orders', count(*) from orders
union all select 'order_line_items', count(*) from order_line_items;
