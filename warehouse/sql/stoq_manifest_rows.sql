select cast(raw as varchar) as raw, fetched_at
from stoq_manifest
order by method, path;
