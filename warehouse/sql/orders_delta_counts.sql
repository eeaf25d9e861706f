-- insert / update / unchanged counts of the classified chunk.
select action, count(*) from _orders_delta group by action;
