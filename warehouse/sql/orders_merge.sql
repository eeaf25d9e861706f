-- Merge one registered chunk into orders. Unchanged records (same raw JSON) only advance
-- last_synced_at; every record seen clears the missing flag.
merge into orders as t
using _orders_chunk as s
on t.id = s.id
when matched and t.raw::varchar = s.raw then update set
    last_synced_at = $synced_at,
    missing_from_api = false,
    missing_since = null
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
    tags = s.tags::varchar[],
    offer_ids = s.offer_ids::varchar[],
    raw = s.raw::json,
    last_synced_at = $synced_at,
    last_changed_at = $synced_at,
    missing_from_api = false,
    missing_since = null
when not matched then insert (
    id, name, state, created_at, financial_status, fulfillment_status, cancelled_at, currency,
    total_price, deposit, balance, total_outstanding, charged_at, customer_id, customer_email,
    customer_name, tags, offer_ids, raw, first_seen_at, last_synced_at, last_changed_at,
    missing_from_api, missing_since
) values (
    s.id, s.name, s.state, s.created_at, s.financial_status, s.fulfillment_status, s.cancelled_at,
    s.currency, s.total_price::decimal(18, 2), s.deposit::decimal(18, 2),
    s.balance::decimal(18, 2), s.total_outstanding::decimal(18, 2), s.charged_at, s.customer_id,
    s.customer_email, s.customer_name, s.tags::varchar[], s.offer_ids::varchar[], s.raw::json,
    $synced_at, $synced_at, $synced_at, false, null
);
