DROP TABLE portfolios;
