-- Drop the classification of the merged stage.
drop table if exists _offers_delta;
