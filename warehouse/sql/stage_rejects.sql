-- Records a sync could not type (_chunk), verbatim, for one Parquet file.
select record_key::varchar as record_key, reason::varchar as reason, raw::varchar as raw
from _chunk;
