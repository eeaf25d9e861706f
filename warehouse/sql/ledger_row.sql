-- Ledger rows by key (any status, dry runs too: the caller says why it will not act on one), in
-- one shop, or in every shop holding the key ($shop null): keys are unique per shop only.
select *
from order_actions
where key = $key and ($shop is null or shop = $shop)
order by shop;
