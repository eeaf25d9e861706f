-- Update the orders whose raw JSON changed with their latest staged version ($orders: the
-- stage's Parquet files, classified in _orders_delta); seen, they are not missing. Unchanged
-- orders: orders_touch; new orders: orders_insert.
merge into orders as t
using (
    select s.*, $shop as shop
    from read_parquet($orders) as s
    join _orders_delta as d on d.id = s.id and d._seq = s._seq
    where d.action = 'update'
) as s
on t.shop = s.shop and t.id = s.id
when matched then update set
    name = s.name,
    state = s.state,
    created_at = s.created_at,
    financial_status = s.financial_status,
    fulfillment_status = s.fulfillment_status,
    cancelled_at = s.cancelled_at,
    currency = s.currency,
    total_price = s.total_price::decimal(18, 2),
    deposit = s.deposit::decimal(18, 2),
    balance = s.balance::decimal(18, 2),
    total_outstanding = s.total_outstanding::decimal(18, 2),
    charged_at = s.charged_at,
    customer_id = s.customer_id,
    customer_email = s.customer_email,
    customer_name = s.customer_name,
    tags = s.tags,
    offer_ids = s.offer_ids,
    raw = s.raw::json,
    last_synced_at = $synced_at,
    last_changed_at = $synced_at,
    missing_from_api = false,
    missing_since = null;
