DROP TABLE news_symbols;
