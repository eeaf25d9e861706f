-- Jobs not yet seen in a terminal state (running, timed out while running, never polled).
select * from jobs where finished_at is null order by submitted_at, job_id;
