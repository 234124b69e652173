//! bourse-risk
