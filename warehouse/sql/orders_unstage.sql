-- Drop the classification of one merged chunk.
drop table if exists _orders_delta;
