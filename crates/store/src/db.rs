//! The [`Db`] handle: one connection pool for whichever backend is configured.

use std::fmt;

use bb8::ManageConnection;
use diesel_async::RunQueryDsl;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, PoolError};
use url::Url;

use crate::redact::describe_parsed;
use crate::setup::{LogConnectionErrors, postgres_manager_config, sqlite_manager_config};
use crate::{Backend, PgConn, Pool, SqliteConn, StoreConfig, StoreError};

/// Name of the pool-size gauge, labelled `backend` and `state` (`idle`/`in_use`).
pub const POOL_CONNECTIONS_GAUGE: &str = "bourse_db_pool_connections";

/// A pool of connections to the configured database. Cheap to clone (the pool
/// is shared); build it once at start-up and keep it in the service state.
///
/// Write queries with [`with_conn!`](crate::with_conn), which runs the same code
/// on either variant.
#[derive(Clone)]
pub enum Db {
    /// The production backend.
    Postgres(Pool<PgConn>),
    /// The embedded default: a SQLite file in the data directory.
    Sqlite(Pool<SqliteConn>),
}

impl Db {
    /// Builds the pool and checks one connection out, so a wrong or
    /// unreachable database fails start-up with a clear message instead of
    /// failing the first request.
    ///
    /// With no database URL the embedded SQLite file
    /// [`StoreConfig::sqlite_path`] is used; its directory is created.
    pub async fn connect(config: &StoreConfig) -> Result<Self, StoreError> {
        let db = match config.database_url.as_deref() {
            Some(url) => Self::Postgres(connect_postgres(url, config).await?),
            None => Self::Sqlite(connect_sqlite(config).await?),
        };
        metrics::describe_gauge!(
            POOL_CONNECTIONS_GAUGE,
            "Pooled database connections by backend and state (idle, in_use)."
        );
        Ok(db)
    }

    /// Runs `SELECT 1` on a pooled connection, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        crate::with_conn!(self, |conn| {
            diesel::sql_query("SELECT 1").execute(conn).await?
        });
        Ok(())
    }

    /// A readiness check for health endpoints: a [`Db::ping`] whose error is reported as text.
    pub fn readiness_check(
        &self,
    ) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>
    + Send
    + Sync
    + 'static {
        let db = self.clone();
        move || {
            let db = db.clone();
            Box::pin(async move { db.ping().await.map_err(|error| error.to_string()) })
        }
    }

    /// Which engine this pool talks to.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Publishes the pool's idle and in-use connection counts to the
    /// [`POOL_CONNECTIONS_GAUGE`] gauge. Cheap (reads two counters); the
    /// runtime calls it periodically.
    pub fn record_pool_metrics(&self) {
        let (connections, idle) = self.pool_state();
        let backend = self.backend().as_str();
        metrics::gauge!(POOL_CONNECTIONS_GAUGE, "backend" => backend, "state" => "idle")
            .set(f64::from(idle));
        metrics::gauge!(POOL_CONNECTIONS_GAUGE, "backend" => backend, "state" => "in_use")
            .set(f64::from(connections.saturating_sub(idle)));
    }

    /// `(open connections, idle connections)` of the pool.
    fn pool_state(&self) -> (u32, u32) {
        let state = match self {
            Self::Postgres(pool) => pool.state(),
            Self::Sqlite(pool) => pool.state(),
        };
        (state.connections, state.idle_connections)
    }
}

/// Lets [`with_conn!`](crate::with_conn) accept a `Db`, `&Db` or `Arc<Db>`.
impl AsRef<Db> for Db {
    fn as_ref(&self) -> &Db {
        self
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (connections, idle) = self.pool_state();
        f.debug_struct("Db")
            .field("backend", &self.backend())
            .field("connections", &connections)
            .field("idle", &idle)
            .finish()
    }
}

/// Validates `url` as a PostgreSQL URL and builds a checked pool on it.
async fn connect_postgres(url: &str, config: &StoreConfig) -> Result<Pool<PgConn>, StoreError> {
    let parsed = Url::parse(url).map_err(|error| StoreError::InvalidUrl {
        reason: format!("{error} (expected postgres://user@host:port/database)"),
    })?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(StoreError::InvalidUrl {
            reason: format!(
                "unsupported scheme `{}` (expected postgres:// or postgresql://, \
                 or no URL for the embedded SQLite database)",
                parsed.scheme()
            ),
        });
    }
    let target = describe_parsed(&parsed);
    checked_pool(
        url,
        Backend::Postgres,
        target,
        postgres_manager_config(),
        config,
    )
    .await
}

/// Creates the data directory and builds a checked pool on the SQLite file.
async fn connect_sqlite(config: &StoreConfig) -> Result<Pool<SqliteConn>, StoreError> {
    let data_dir_error = |reason: String| StoreError::DataDir {
        path: config.data_dir.clone(),
        reason,
    };
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .map_err(|error| data_dir_error(error.to_string()))?;
    let path = config.sqlite_path();
    let url = path
        .to_str()
        .ok_or_else(|| data_dir_error("the path is not valid UTF-8".to_owned()))?;
    let target = path.display().to_string();
    checked_pool(
        url,
        Backend::Sqlite,
        target,
        sqlite_manager_config(),
        config,
    )
    .await
}

/// Builds a pool and establishes its first connection within the connect
/// timeout, reporting failure as [`StoreError::Unreachable`].
async fn checked_pool<C>(
    url: &str,
    backend: Backend,
    target: String,
    manager_config: ManagerConfig<C>,
    config: &StoreConfig,
) -> Result<Pool<C>, StoreError>
where
    C: diesel_async::AsyncConnection + 'static,
    AsyncDieselConnectionManager<C>: ManageConnection<Connection = C, Error = PoolError>,
{
    let manager = AsyncDieselConnectionManager::new_with_config(url, manager_config);
    let pool = bb8::Pool::builder()
        .max_size(config.max_connections.max(1))
        .connection_timeout(config.connect_timeout)
        .error_sink(Box::new(LogConnectionErrors { backend }))
        .build_unchecked(manager);

    let first = tokio::time::timeout(config.connect_timeout, pool.dedicated_connection()).await;
    let reason = match first {
        Ok(Ok(conn)) => {
            // Keep the verified connection as the pool's first idle one; if
            // the pool refuses it, it is simply closed.
            let _ = pool.add(conn);
            tracing::info!(%backend, %target, "connected to database");
            return Ok(pool);
        }
        Ok(Err(error)) => error.to_string(),
        Err(_elapsed) => format!("no connection within {:?}", config.connect_timeout),
    };
    Err(StoreError::Unreachable {
        backend,
        target,
        reason,
    })
}
