-- The portfolio book: orders, their fills, and the positions derived from them.
-- Decimals (quantities, prices, money) are exact decimal text in canonical form, the same
-- type on both backends. Every write to these tables also bumps portfolios.version, inside
-- one transaction.

-- Orders. idempotency_key/request_hash make PlaceOrder retries safe: the unique index
-- enforces one order per (portfolio, key) even under racing requests (NULL keys never
-- collide). Keys are kept at least 24 hours; older ones are cleared (set to NULL) by
-- store::prune_idempotency_keys, which the partial index on created_at serves.
CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    portfolio_id TEXT NOT NULL REFERENCES portfolios (id),
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    order_type TEXT NOT NULL,
    quantity TEXT NOT NULL,
    limit_price TEXT,
    time_in_force TEXT NOT NULL,
    status TEXT NOT NULL,
    reject_reason TEXT,
    filled_quantity TEXT NOT NULL,
    average_fill_price TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX orders_portfolio_created_idx ON orders (portfolio_id, created_at, id);
CREATE UNIQUE INDEX orders_idempotency_key_idx ON orders (portfolio_id, idempotency_key);
CREATE INDEX orders_idempotency_created_idx ON orders (created_at)
    WHERE idempotency_key IS NOT NULL;

-- Executions of an order, numbered from 0.
CREATE TABLE fills (
    order_id TEXT NOT NULL REFERENCES orders (id),
    seq INTEGER NOT NULL,
    price TEXT NOT NULL,
    quantity TEXT NOT NULL,
    time TIMESTAMP NOT NULL,
    PRIMARY KEY (order_id, seq)
);

-- Positions per (portfolio, symbol), average-cost method. A position closed to zero stays
-- (quantity '0') to keep its realized P&L.
-- SQLite has no INCLUDE; its primary key is the same (portfolio_id, symbol).
CREATE TABLE positions (
    portfolio_id TEXT NOT NULL REFERENCES portfolios (id),
    symbol TEXT NOT NULL,
    quantity TEXT NOT NULL,
    average_cost TEXT NOT NULL,
    realized_pnl TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (portfolio_id, symbol)
);
