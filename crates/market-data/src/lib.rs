//! bourse-market-data
