-- insert / update / unchanged counts of the classified stage.
select action, count(*) from _orders_delta group by action;
