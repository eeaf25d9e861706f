-- One job of one shop by id (job ids are unique per shop only).
select * from jobs where shop = $shop and job_id = $job_id;
