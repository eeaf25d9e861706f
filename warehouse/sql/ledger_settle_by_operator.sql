-- An operator's verdict on a real open row of one shop: the status, who and why; the runs' note
-- and hint stay. No row back: the row was settled meanwhile (or is a dry run), nothing changed.
update order_actions
set status = $status, settled_by = $by, settle_reason = $reason, settled_at = $now
where shop = $shop and key = $key and not dry_run and status in ('planned', 'sent', 'unknown')
returning key;
