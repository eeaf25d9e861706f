-- Jobs of one shop (every shop: $shop null) not yet seen in a terminal state (running, timed
-- out while running, never polled).
select * from jobs
where finished_at is null and ($shop is null or shop = $shop)
order by submitted_at, shop, job_id;
