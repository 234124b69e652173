-- Daily sentiment per symbol, refreshed on a schedule by the sentiment service, merged on read
-- with the articles ingested since (those with ingested_at > cutoff). `cutoff` is set a minute
-- before each refresh so that an ingest still committing during the refresh is counted live,
-- never lost. The w_/ws_ columns make the time-decayed mean exact: an article's weight
-- exp(-(as_of - t) / tau) is exp(-(as_of - day) / tau) * exp((t - day) / tau), with tau half of
-- the window (1d: 43,200 s, 7d: 302,400 s, 30d: 1,296,000 s); labels use the 0.05 thresholds.
CREATE TABLE news_rollup_cutoff (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cutoff TIMESTAMP NOT NULL,
    refreshed_at TIMESTAMP NOT NULL
);
INSERT INTO news_rollup_cutoff VALUES (1, '1970-01-01', '1970-01-01');

CREATE MATERIALIZED VIEW news_symbol_daily AS
SELECT
    s.symbol,
    date_trunc('day', s.published_at) AS day,
    count(*)::BIGINT AS articles,
    sum(s.score) AS score_sum,
    (count(*) FILTER (WHERE s.score >= 0.05))::BIGINT AS positive,
    (count(*) FILTER (WHERE s.score <= -0.05))::BIGINT AS negative,
    sum(exp(extract(epoch FROM s.published_at - date_trunc('day', s.published_at))::DOUBLE PRECISION / 43200.0)) AS w_1d,
    sum(s.score * exp(extract(epoch FROM s.published_at - date_trunc('day', s.published_at))::DOUBLE PRECISION / 43200.0)) AS ws_1d,
    sum(exp(extract(epoch FROM s.published_at - date_trunc('day', s.published_at))::DOUBLE PRECISION / 302400.0)) AS w_7d,
    sum(s.score * exp(extract(epoch FROM s.published_at - date_trunc('day', s.published_at))::DOUBLE PRECISION / 302400.0)) AS ws_7d,
    sum(exp(extract(epoch FROM s.published_at - date_trunc('day', s.published_at))::DOUBLE PRECISION / 1296000.0)) AS w_30d,
    sum(s.score * exp(extract(epoch FROM s.published_at - date_trunc('day', s.published_at))::DOUBLE PRECISION / 1296000.0)) AS ws_30d
FROM news_symbols s
JOIN news n ON n.id = s.news_id
WHERE n.ingested_at <= (SELECT cutoff FROM news_rollup_cutoff WHERE id = 1)
GROUP BY s.symbol, date_trunc('day', s.published_at);

CREATE UNIQUE INDEX news_symbol_daily_key ON news_symbol_daily (symbol, day);
