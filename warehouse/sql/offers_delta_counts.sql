-- insert / update / unchanged counts of the classified stage.
select action, count(*) from _offers_delta group by action;
