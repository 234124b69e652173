//! Integration tests of bourse-store. Every store test runs on both backends
//! (`store_test!`): embedded SQLite always, PostgreSQL when `DATABASE_URL` is
//! set (required with `CI=true`).

mod api_keys;
mod bars;
mod connect;
mod metrics;
mod migrations;
mod rows;
mod schema;
mod transactions;
mod with_conn;
