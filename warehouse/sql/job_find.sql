-- The newest job one shop submitted for a batch (a finished one may have been re-submitted
-- since); another shop's job for the same batch key is its own.
select * from jobs
where shop = $shop and batch_key = $batch_key
order by submitted_at desc, job_id desc
limit 1;
