-- One ledger row by key (any status, dry runs too: the caller says why it will not act on one).
select *
from order_actions
where key = $key;
