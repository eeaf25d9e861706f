-- Orders the releasable_orders view holds (before the ledger says which of them may go out).
select count(*) from releasable_orders where shop = $shop;
