-- OHLCV bars, all intervals in one table, partitioned by RANGE (ts).
--
-- Yearly partitions `bars_yYYYY` are created on demand by
-- `bourse_ensure_bar_partitions(from_ts, to_ts)`, which an importer calls before
-- loading a range. Rows outside every partition land in `bars_default`; the
-- function moves such rows into the partition it creates, so calling it late is
-- safe. No foreign key to `instruments`: bulk imports must not depend on the
-- order reference data arrives in.
--
-- The market-data issue may refine this to monthly partitions for intraday
-- intervals; such a change needs a new migration that re-partitions, not an
-- edit of this one.
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

-- Creates the yearly partitions covering [from_ts, to_ts] that do not exist yet
-- and returns how many it created. Idempotent; concurrent callers serialise on
-- an advisory lock held until the end of the calling transaction.
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

        -- Build the partition standalone, move any rows the default partition
        -- holds for this year into it, then attach it (attaching fails while
        -- the default partition still holds rows of the new range).
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
