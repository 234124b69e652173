DROP FUNCTION bourse_ensure_bar_partitions(TIMESTAMP, TIMESTAMP);
DROP TABLE bars;
