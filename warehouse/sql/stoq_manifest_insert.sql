insert into stoq_manifest (shop, method, path, name, aliases, required_fields, raw, fetched_at)
select
    $shop,
    method,
    path,
    name,
    cast(cast(aliases as json) as varchar[]),
    cast(cast(required_fields as json) as varchar[]),
    cast(raw as json),
    cast($fetched_at as timestamptz)
from _manifest_frame;
