-- Computed risk reports. `params` and `result` are JSON documents kept as text
-- (same type on both backends). `portfolio_id` is NULL for ad-hoc position sets
-- and deliberately has no foreign key: the risk service may run against a
-- different database than the portfolio service.
CREATE TABLE risk_reports (
    id TEXT PRIMARY KEY,
    portfolio_id TEXT NULL,
    account TEXT NOT NULL,
    method TEXT NOT NULL,
    params TEXT NOT NULL,
    result TEXT NOT NULL,
    computed_at TIMESTAMP NOT NULL
);

CREATE INDEX risk_reports_portfolio_computed_idx ON risk_reports (portfolio_id, computed_at);
