-- Real rows worth an operator's look, in one shop (every shop: $shop null): every open row
-- (planned / sent / unknown), and the latest failed / rejected / skipped row of each (shop, order,
-- action, fingerprint, forced): the caller keeps those whose order still waits for the action in
-- the same version. With the job that carried each row as last polled (null: no job, or not in
-- `jobs`), found in the row's own shop.
select
    a.shop, a.key, a.order_id, a.action, a.status, a.attempt, a.forced, a.http_status, a.job_id,
    a.bulk, a.hint, a.note, a.order_fingerprint, a.planned_at, a.sent_at, a.settled_at,
    a.settled_by, a.settle_reason, a.dagster_run_id,
    j.job_id is not null as job_known,
    j.last_status as job_status,
    j.last_progress as job_progress,
    j.finished_at is not null or coalesce(list_contains($terminal, j.last_status), false) as job_finished,
    j.status_url as job_status_url
from order_actions a
left join jobs j on j.shop = a.shop and j.job_id = a.job_id
where not a.dry_run
    and ($shop is null or a.shop = $shop)
    and ($open_only = false or a.status in ('planned', 'sent', 'unknown'))
qualify a.status in ('planned', 'sent', 'unknown')
    or (
        a.status in ('failed', 'rejected', 'skipped')
        and row_number() over (
            partition by a.shop, a.order_id, a.action, a.order_fingerprint, a.forced
            order by a.planned_at desc, a.key desc
        ) = 1
    )
order by a.planned_at, a.shop, a.key;
