//! Bourse's storage layer: pooled async database access over PostgreSQL in
//! production or an embedded SQLite file by default, the embedded migrations
//! that create the schema, and the diesel `table!` definitions every service
//! shares.
//!
//! A service builds one [`Db`] at start-up with [`Db::connect`], runs
//! [`Db::migrate`], keeps the `Db` in its state and writes each query once for
//! both backends with [`with_conn!`]:
//!
//! ```no_run
//! use bourse_store::{Db, StoreConfig, StoreError, schema::api_keys};
//! use diesel::prelude::*;
//! use diesel_async::RunQueryDsl;
//!
//! async fn count_keys(db: &Db, account: &str) -> Result<i64, StoreError> {
//!     let count = bourse_store::with_conn!(db, |conn| {
//!         api_keys::table
//!             .filter(api_keys::account.eq(account))
//!             .count()
//!             .get_result::<i64>(conn)
//!             .await?
//!     });
//!     Ok(count)
//! }
//!
//! # async fn start() -> Result<(), StoreError> {
//! let db = Db::connect(&StoreConfig::embedded(".bourse")).await?;
//! db.migrate().await?;
//! println!("{} keys", count_keys(&db, "acme").await?);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod backend;
mod config;
mod db;
mod error;
mod migrations;
pub mod page;
mod partitions;
mod redact;
pub mod schema;
mod setup;
mod with_conn;

pub use backend::Backend;
pub use config::StoreConfig;
pub use db::{Db, POOL_CONNECTIONS_GAUGE};
pub use error::StoreError;
pub use partitions::BarClass;

/// A PostgreSQL connection as handed out by [`Db::Postgres`] pools.
pub type PgConn = diesel_async::AsyncPgConnection;

/// An embedded SQLite connection as handed out by [`Db::Sqlite`] pools: diesel's
/// synchronous connection run on tokio's blocking pool.
pub type SqliteConn =
    diesel_async::sync_connection_wrapper::SyncConnectionWrapper<diesel::SqliteConnection>;

/// The bb8 pool type behind each [`Db`] variant.
pub type Pool<C> = bb8::Pool<diesel_async::pooled_connection::AsyncDieselConnectionManager<C>>;

/// The error a pool returns when it cannot hand out a connection (converted
/// into [`StoreError::Pool`]).
pub type PoolRunError = bb8::RunError<diesel_async::pooled_connection::PoolError>;
