-- Drop the classification of the merged stage.
drop table if exists _orders_delta;
