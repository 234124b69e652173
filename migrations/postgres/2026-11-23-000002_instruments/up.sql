-- Reference data for every tradable symbol. `symbol` is the canonical upper-case
-- ticker used as the key everywhere else.
CREATE TABLE instruments (
    symbol TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    exchange TEXT NOT NULL,
    currency TEXT NOT NULL,
    asset_class TEXT NOT NULL,
    sector TEXT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at TIMESTAMP NOT NULL
);

-- Prefix search on the name: `WHERE lower(name) LIKE 'appl%'` uses this index.
CREATE INDEX instruments_name_search_idx ON instruments (lower(name) text_pattern_ops);
