-- Back to the yearly layout of 2026-11-23-000004_bars, keeping the rows.
DROP FUNCTION bourse_ensure_bar_partitions(TIMESTAMP, TIMESTAMP);
DROP FUNCTION bourse_ensure_bar_partitions(TEXT, TIMESTAMP, TIMESTAMP);
ALTER TABLE bars RENAME TO bars_by_class;
ALTER INDEX bars_pkey RENAME TO bars_by_class_pkey;
ALTER TABLE bars_by_class RENAME CONSTRAINT bars_interval_check TO bars_by_class_interval_check;

CREATE TABLE bars (
    symbol TEXT NOT NULL,
    "interval" TEXT NOT NULL CHECK ("interval" IN ('1m', '5m', '15m', '1h', '1d', '1w', '1mo')),
    ts TIMESTAMP NOT NULL,
    open DOUBLE PRECISION NOT NULL,
    high DOUBLE PRECISION NOT NULL,
    low DOUBLE PRECISION NOT NULL,
    close DOUBLE PRECISION NOT NULL,
    volume DOUBLE PRECISION NOT NULL,
    vwap DOUBLE PRECISION NULL,
    trades BIGINT NULL,
    PRIMARY KEY (symbol, "interval", ts)
) PARTITION BY RANGE (ts);

CREATE TABLE bars_default PARTITION OF bars DEFAULT;

CREATE FUNCTION bourse_ensure_bar_partitions(from_ts TIMESTAMP, to_ts TIMESTAMP)
RETURNS INTEGER
LANGUAGE plpgsql
AS $$
DECLARE
    y INTEGER;
    partition_name TEXT;
    range_start TIMESTAMP;
    range_end TIMESTAMP;
    created INTEGER := 0;
BEGIN
    IF from_ts IS NULL OR to_ts IS NULL THEN
        RAISE EXCEPTION 'bourse_ensure_bar_partitions: bounds must not be NULL';
    END IF;
    IF to_ts < from_ts THEN
        RAISE EXCEPTION 'bourse_ensure_bar_partitions: to_ts % is before from_ts %', to_ts, from_ts;
    END IF;

    PERFORM pg_advisory_xact_lock(hashtext('bourse_ensure_bar_partitions'));

    FOR y IN EXTRACT(YEAR FROM from_ts)::INTEGER .. EXTRACT(YEAR FROM to_ts)::INTEGER LOOP
        partition_name := format('bars_y%s', y);
        CONTINUE WHEN to_regclass(partition_name) IS NOT NULL;

        range_start := make_timestamp(y, 1, 1, 0, 0, 0);
        range_end := make_timestamp(y + 1, 1, 1, 0, 0, 0);

        EXECUTE format('CREATE TABLE %I (LIKE bars INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', partition_name);
        EXECUTE format(
            'WITH moved AS (DELETE FROM bars_default WHERE ts >= %L AND ts < %L RETURNING *) '
            'INSERT INTO %I SELECT * FROM moved',
            range_start, range_end, partition_name);
        EXECUTE format('ALTER TABLE bars ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
            partition_name, range_start, range_end);
        created := created + 1;
    END LOOP;

    RETURN created;
END;
$$;

SELECT bourse_ensure_bar_partitions(min(ts), max(ts)) FROM bars_by_class HAVING count(*) > 0;
INSERT INTO bars SELECT * FROM bars_by_class;
DROP TABLE bars_by_class;
