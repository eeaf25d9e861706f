-- The newest job submitted for a batch (a finished one may have been re-submitted since).
select * from jobs where batch_key = $batch_key order by submitted_at desc, job_id desc limit 1;
