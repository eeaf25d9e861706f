-- Give back a claim of one shop that was never sent (e.g. the order could not be read): nothing
-- went out.
delete from order_actions
where shop = $shop and key = $key and status = 'planned' and sent_at is null;
