-- OHLCV bars, all intervals in one table. The embedded database has no
-- partitioning: one plain table with the same columns and primary key as the
-- partitioned PostgreSQL table (and no bourse_ensure_bar_partitions function).
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
) WITHOUT ROWID;
