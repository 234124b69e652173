-- Portfolios owned by an account. `cash` is an exact decimal kept as text (no
-- float rounding, and the same type on both backends). `version` is bumped on
-- every change for optimistic concurrency.
CREATE TABLE portfolios (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    base_currency TEXT NOT NULL,
    cash TEXT NOT NULL,
    allow_short BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX portfolios_account_created_idx ON portfolios (account, created_at);
