//! The embedded schema migrations (`migrations/postgres` and
//! `migrations/sqlite` at the repository root, same directory names in both)
//! and [`Db::migrate`], which applies the pending ones.

use diesel_async::{AsyncConnection, AsyncMigrationHarness, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::{Db, PoolRunError, StoreError};

/// Migrations for the PostgreSQL backend.
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Migrations for the embedded SQLite backend.
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Session-level advisory lock taken while migrating PostgreSQL, so that
/// services starting together against one database migrate one at a time.
const POSTGRES_MIGRATION_LOCK: &str = "SELECT pg_advisory_lock(hashtext('bourse_migrations'))";

impl Db {
    /// Applies the embedded migrations that have not run yet.
    ///
    /// Safe to call on any tokio runtime, including a current-thread one: the
    /// migration harness blocks, so it runs on the blocking pool with a
    /// dedicated connection (not one of the pool's), which is closed afterwards.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let applied = match self {
            Self::Postgres(pool) => {
                let mut conn = pool.dedicated_connection().await.map_err(pool_error)?;
                // Released when `conn` is closed at the end of the run.
                diesel::sql_query(POSTGRES_MIGRATION_LOCK)
                    .execute(&mut conn)
                    .await?;
                run_pending::<_, diesel::pg::Pg>(conn, POSTGRES_MIGRATIONS).await?
            }
            Self::Sqlite(pool) => {
                let conn = pool.dedicated_connection().await.map_err(pool_error)?;
                run_pending::<_, diesel::sqlite::Sqlite>(conn, SQLITE_MIGRATIONS).await?
            }
        };
        if applied.is_empty() {
            tracing::debug!(backend = %self.backend(), "database schema is up to date");
        } else {
            tracing::info!(backend = %self.backend(), ?applied, "applied database migrations");
        }
        Ok(())
    }
}

/// A failure to open the dedicated migration connection.
fn pool_error(error: diesel_async::pooled_connection::PoolError) -> StoreError {
    StoreError::Pool(PoolRunError::User(error))
}

/// Runs `migrations` on `conn` on the blocking pool and returns the versions
/// it applied. On a blocking thread `AsyncMigrationHarness`'s `block_in_place`
/// is a plain call and its `Handle::block_on` is allowed, whatever the flavour
/// of the runtime.
async fn run_pending<C, B>(
    conn: C,
    migrations: EmbeddedMigrations,
) -> Result<Vec<String>, StoreError>
where
    C: AsyncConnection + Send + 'static,
    B: diesel::backend::Backend,
    AsyncMigrationHarness<C>: MigrationHarness<B>,
    EmbeddedMigrations: diesel::migration::MigrationSource<B>,
{
    let outcome = tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        harness
            .run_pending_migrations(migrations)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|error| error.to_string())
    })
    .await;
    match outcome {
        Ok(Ok(applied)) => Ok(applied),
        Ok(Err(reason)) => Err(StoreError::Migration { reason }),
        Err(join_error) => Err(StoreError::Migration {
            reason: format!("the migration task did not finish: {join_error}"),
        }),
    }
}
