-- Append the new orders (the latest staged version of each) in one statement: a large append
-- is written straight to the database file instead of being held in memory until COMMIT.
insert into orders (
    shop, id, name, state, created_at, financial_status, fulfillment_status, cancelled_at, currency,
    total_price, deposit, balance, total_outstanding, charged_at, customer_id, customer_email,
    customer_name, tags, offer_ids, raw, first_seen_at, last_synced_at, last_changed_at,
    missing_from_api, missing_since
)
select
    $shop, s.id, s.name, s.state, s.created_at, s.financial_status, s.fulfillment_status, s.cancelled_at,
    s.currency, s.total_price::decimal(18, 2), s.deposit::decimal(18, 2),
    s.balance::decimal(18, 2), s.total_outstanding::decimal(18, 2), s.charged_at, s.customer_id,
    s.customer_email, s.customer_name, s.tags, s.offer_ids, s.raw::json,
    $synced_at, $synced_at, $synced_at, false, null
from read_parquet($orders) as s
join _orders_delta as d on d.id = s.id and d._seq = s._seq
where d.action = 'insert';
