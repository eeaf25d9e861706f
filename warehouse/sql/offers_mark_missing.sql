-- Flag (never delete) offers the full walk did not see (_seen_ids); keeps the first missing_since.
update offers
set missing_since = $synced_at
where missing_since is null
  and not exists (select 1 from _seen_ids as s where s.id = offers.id);
