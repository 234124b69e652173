//! What every new pooled connection goes through before its first use, and
//! where the pools report connection failures.

use std::future::Future;
use std::pin::Pin;

use bb8::ErrorSink;
use diesel::{ConnectionError, ConnectionResult, QueryResult};
use diesel_async::pooled_connection::{
    ManagerConfig, PoolError, PoolableConnection, RecyclingMethod,
};
use diesel_async::{AsyncConnection, SimpleAsyncConnection};

use crate::{Backend, PgConn, SqliteConn};

/// Per-connection SQLite settings. `busy_timeout` comes first so that switching
/// to WAL waits for, rather than fails on, a concurrent connection's lock.
/// WAL lets readers proceed during a write; NORMAL sync is durable across
/// application crashes (not power loss) in WAL mode; SQLite leaves foreign
/// keys off unless asked, per connection.
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON;";

/// Session settings for PostgreSQL: timestamps are stored as UTC
/// `TIMESTAMP`s, so `now()` and casts must not depend on the server's zone.
const POSTGRES_SESSION: &str = "SET TIME ZONE 'UTC'";

/// The future a recycling check returns.
type RecycleFuture<'a> = Pin<Box<dyn Future<Output = QueryResult<()>> + Send + 'a>>;

/// The future a connection-setup callback returns.
type SetupFuture<'a, C> = Pin<Box<dyn Future<Output = ConnectionResult<C>> + Send + 'a>>;

/// Opens the SQLite file named by `url` and applies [`SQLITE_PRAGMAS`].
fn setup_sqlite(url: &str) -> SetupFuture<'_, SqliteConn> {
    Box::pin(async move {
        let mut conn = SqliteConn::establish(url).await?;
        conn.batch_execute(SQLITE_PRAGMAS)
            .await
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    })
}

/// Connects to PostgreSQL and pins the session time zone to UTC.
fn setup_postgres(url: &str) -> SetupFuture<'_, PgConn> {
    Box::pin(async move {
        let mut conn = PgConn::establish(url).await?;
        conn.batch_execute(POSTGRES_SESSION)
            .await
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    })
}

/// Pool manager settings for SQLite: every new connection gets the pragmas.
pub(crate) fn sqlite_manager_config() -> ManagerConfig<SqliteConn> {
    manager_config(setup_sqlite)
}

/// Pool manager settings for PostgreSQL: every new session runs in UTC.
pub(crate) fn postgres_manager_config() -> ManagerConfig<PgConn> {
    manager_config(setup_postgres)
}

/// Pool manager settings: `setup` for each new connection, [`unbroken`] before each checkout.
fn manager_config<C: PoolableConnection + 'static>(
    setup: fn(&str) -> SetupFuture<'_, C>,
) -> ManagerConfig<C> {
    let mut config = ManagerConfig::default();
    config.custom_setup = Box::new(setup);
    config.recycling_method = RecyclingMethod::CustomFunction(Box::new(unbroken));
    config
}

/// The check an idle connection passes before the pool hands it out: not broken, which is a
/// transaction left failed or, on PostgreSQL, a socket the server has closed (a restart, an
/// idle-session timeout, `pg_terminate_backend`). It costs no round trip. diesel-async's
/// default runs `SELECT 1` on every checkout, which under load was nearly half of all the
/// statements PostgreSQL executed, and for SQLite a hop to a blocking thread per query.
fn unbroken<C: PoolableConnection>(conn: &mut C) -> RecycleFuture<'_> {
    let result = if conn.is_broken() {
        Err(diesel::result::Error::BrokenTransactionManager)
    } else {
        Ok(())
    };
    Box::pin(std::future::ready(result))
}

/// Logs connection failures that happen inside the pool (background
/// replenishing), which bb8 would otherwise drop silently.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogConnectionErrors {
    /// Which pool the failure came from.
    pub(crate) backend: Backend,
}

impl ErrorSink<PoolError> for LogConnectionErrors {
    fn sink(&self, error: PoolError) {
        tracing::warn!(backend = %self.backend, %error, "database connection failed");
    }

    fn boxed_clone(&self) -> Box<dyn ErrorSink<PoolError>> {
        Box::new(*self)
    }
}
