-- Record the bulk job that carries sent rows, right after submission and before the first poll:
-- a later run then asks that job whether it is still running before judging the rows.
-- Keys are unique per shop only: every match is on (shop, key).
update order_actions
set job_id = $job_id
where shop = $shop and list_contains($keys, key) and status in ('sent', 'unknown') and not dry_run;
