select cast(raw as varchar) as raw, fetched_at
from stoq_manifest
where shop = $shop
order by method, path;
