//! bourse-gateway
