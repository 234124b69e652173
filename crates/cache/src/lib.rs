//! bourse-cache
