-- Drop one shop's ($shop) stored manifest before it is replaced.
delete from stoq_manifest where shop = $shop;
