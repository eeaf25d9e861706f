-- insert / update / unchanged counts of the classified chunk.
select action, count(*) from _offers_delta group by action;
