select * from jobs where job_id = $job_id;
