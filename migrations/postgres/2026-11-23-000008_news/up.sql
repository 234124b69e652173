-- Scored news items. `symbols` is a comma-separated list of upper-case symbols.
-- UNIQUE (source, url) makes re-ingesting a feed idempotent; items without a
-- url never collide (NULLs are distinct on both backends).
CREATE TABLE news (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    url TEXT NULL,
    headline TEXT NOT NULL,
    body TEXT NULL,
    symbols TEXT NOT NULL,
    published_at TIMESTAMP NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    label TEXT NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    CONSTRAINT news_source_url_key UNIQUE (source, url)
);

CREATE INDEX news_published_idx ON news (published_at);
