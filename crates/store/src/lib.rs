//! bourse-store
