-- API keys the gateway authenticates against. Only the hex SHA-256 of a key is
-- stored; `prefix` (its first 8 characters) lets an operator recognise a key in
-- listings without being able to use it. Revoked keys are kept for audit.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    tier TEXT NOT NULL CHECK (tier IN ('shared', 'premium')),
    key_hash TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
    prefix TEXT NOT NULL,
    rate_limit_per_second INTEGER NULL CHECK (rate_limit_per_second IS NULL OR rate_limit_per_second > 0),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP NULL
);

CREATE INDEX api_keys_account_idx ON api_keys (account, created_at);
