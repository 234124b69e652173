DROP MATERIALIZED VIEW news_symbol_daily;
DROP TABLE news_rollup_cutoff;
