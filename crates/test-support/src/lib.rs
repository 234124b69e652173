//! Test helpers shared by Bourse's integration tests: a migrated throwaway
//! database per test on either backend ([`sqlite_db`], [`postgres_db`]), the
//! [`store_test!`] macro that runs one test body on both, and Redis
//! ([`redis_url`], [`unique_prefix`]).
//!
//! Backing services come from the environment: `DATABASE_URL` (a PostgreSQL
//! server the tests may create databases on) and `REDIS_URL`. Locally, a test
//! whose service is not configured is skipped with a line on stderr; with
//! `CI=true` a missing or unreachable service fails the test instead, so CI
//! never passes by skipping.
#![forbid(unsafe_code)]

mod env;
pub mod grpc;
mod postgres;
mod redis;
mod sqlite;
mod store_test;
mod test_db;

pub use postgres::postgres_db;
pub use redis::{redis_url, unique_prefix};
pub use sqlite::sqlite_db;
pub use test_db::TestDb;
