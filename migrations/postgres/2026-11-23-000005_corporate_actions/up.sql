-- Splits and cash dividends, used to adjust historical bars. `id` is a uuid
-- string like every other key here, so both backends insert it the same way.
-- (symbol, ex_date, kind) is unique so that re-importing a feed is idempotent
-- (`ON CONFLICT DO NOTHING`); two cash dividends sharing an ex-date are stored
-- as their sum. No foreign key to `instruments`, as for `bars`.
CREATE TABLE corporate_actions (
    id TEXT PRIMARY KEY,
    symbol TEXT NOT NULL,
    ex_date TIMESTAMP NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('split', 'dividend')),
    -- split: new shares per old share (2-for-1 is 2.0).
    ratio DOUBLE PRECISION NULL,
    -- dividend: cash per share, in the instrument's currency.
    amount DOUBLE PRECISION NULL,
    CONSTRAINT corporate_actions_payload_check CHECK (
        (kind = 'split' AND ratio IS NOT NULL AND ratio > 0 AND amount IS NULL)
        OR (kind = 'dividend' AND amount IS NOT NULL AND amount >= 0 AND ratio IS NULL)
    ),
    CONSTRAINT corporate_actions_natural_key UNIQUE (symbol, ex_date, kind)
);
