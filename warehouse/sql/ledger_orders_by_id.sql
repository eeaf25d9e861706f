-- Named orders (any state: the caller checks the live order) with the fingerprint of $action:
-- payment fields for charge_balance, release fields otherwise (as in ledger_awaiting_balance.sql
-- and ledger_releasable.sql).
select
    id as order_id,
    case when $action = 'charge_balance'
        then md5(json_object(
            'financial_status', financial_status,
            'total_outstanding', total_outstanding,
            'charged_at', charged_at,
            'paid', json_extract_string(raw, '$.payments.paid')
        )::varchar)
        else md5(json_object(
            'state', state,
            'financial_status', financial_status,
            'fulfillment_status', fulfillment_status,
            'cancelled_at', cancelled_at,
            'total_outstanding', total_outstanding,
            'charged_at', charged_at,
            'paid', json_extract_string(raw, '$.payments.paid')
        )::varchar)
    end as fingerprint,
    created_at
from orders
where shop = $shop and list_contains($ids, id)
order by created_at, id;
