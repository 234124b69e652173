-- The latest quote per symbol (history lives in `bars`): one row, upserted.
CREATE TABLE quotes (
    symbol TEXT PRIMARY KEY REFERENCES instruments (symbol) ON DELETE CASCADE,
    last DOUBLE PRECISION NOT NULL,
    bid DOUBLE PRECISION NULL,
    ask DOUBLE PRECISION NULL,
    bid_size DOUBLE PRECISION NULL,
    ask_size DOUBLE PRECISION NULL,
    day_open DOUBLE PRECISION NULL,
    day_high DOUBLE PRECISION NULL,
    day_low DOUBLE PRECISION NULL,
    prev_close DOUBLE PRECISION NULL,
    volume DOUBLE PRECISION NOT NULL DEFAULT 0,
    ts TIMESTAMP NOT NULL
);
