-- The PostgreSQL migration of the same name re-partitions `bars` by interval
-- class and month or year. The embedded database has no partitions: its `bars`
-- table stays one WITHOUT ROWID table clustered on (symbol, "interval", ts),
-- which already serves every ListBars query from its primary key alone.
SELECT 1;
