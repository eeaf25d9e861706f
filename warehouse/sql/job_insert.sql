-- Persist a job one shop submitted; re-saving the same job only moves it to the re-attaching run.
insert into jobs (shop, job_id, kind, batch_key, status_url, item_count, submitted_at,
                  last_status, dagster_run_id, raw)
values ($shop, $job_id, $kind, $batch_key, $status_url, $item_count, $submitted_at, 'running',
        $run_id, $raw)
on conflict (shop, job_id) do update set dagster_run_id = coalesce(excluded.dagster_run_id,
                                                             jobs.dagster_run_id);
