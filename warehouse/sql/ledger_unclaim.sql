-- Give back a claim that was never sent (e.g. the order could not be read): nothing went out.
delete from order_actions
where key = $key and status = 'planned' and sent_at is null;
