//! bourse-sentiment
