-- One row per (symbol, article): the symbol index of `news`, with the article's time and
-- score copied so that listing a symbol's news and aggregating its sentiment over a window
-- read one index range. Written in the same transaction as the article; never updated.
CREATE TABLE news_symbols (
    symbol TEXT NOT NULL,
    news_id TEXT NOT NULL REFERENCES news (id) ON DELETE CASCADE,
    published_at TIMESTAMP NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (symbol, news_id)
);

CREATE INDEX news_symbols_symbol_published_idx ON news_symbols (symbol, published_at, news_id);
