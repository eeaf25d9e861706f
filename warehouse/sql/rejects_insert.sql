-- Keep the records a sync could not type, verbatim, with the reason ($rejects: staged files).
insert into _rejects (shop, run_id, stream, record_key, reason, raw, rejected_at)
select $shop, $run_id, $stream, record_key, reason, raw::json, $synced_at
from read_parquet($rejects);
