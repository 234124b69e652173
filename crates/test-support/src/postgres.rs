//! Throwaway PostgreSQL databases: one per test, created on the server named
//! by `DATABASE_URL` and dropped afterwards.

use std::fmt;
use std::time::Duration;

use bourse_store::{Db, PgConn, StoreConfig};
use diesel_async::{AsyncConnection, RunQueryDsl};
use url::Url;
use uuid::Uuid;

use crate::env::{current_test_name, non_empty_var, skip};
use crate::test_db::{Cleanup, TestDb};

/// How long reaching the PostgreSQL server may take before the test gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A fresh, migrated PostgreSQL database `bourse_test_<uuid>` on the server
/// named by `DATABASE_URL`, dropped when the returned [`TestDb`] is dropped.
///
/// Returns `None` (after printing `skipping PostgreSQL test <name>: ...` to
/// stderr) when `DATABASE_URL` is unset or the server cannot be reached,
/// except with `CI=true`, where both panic.
pub async fn postgres_db() -> Option<TestDb> {
    let test = current_test_name();
    let Some(server_url) = non_empty_var("DATABASE_URL") else {
        return skip("PostgreSQL", &test, "DATABASE_URL not set");
    };
    let name = format!("bourse_test_{}", Uuid::new_v4().simple());
    if let Err(why) = create_database(&server_url, &name).await {
        return skip(
            "PostgreSQL",
            &test,
            &format!("cannot create a database with DATABASE_URL: {why}"),
        );
    }
    // From here on the database exists: the guard drops it even if a step
    // below panics.
    let cleanup = DropDatabase {
        server_url: server_url.clone(),
        name: name.clone(),
    };
    let config = StoreConfig {
        max_connections: 4,
        ..StoreConfig::embedded(std::env::temp_dir())
    }
    .with_database_url(Some(database_url(&server_url, &name)));
    let db = Db::connect(&config)
        .await
        .expect("connect to the PostgreSQL test database");
    db.migrate().await.expect("apply the PostgreSQL migrations");
    Some(TestDb {
        db,
        config,
        cleanup: Cleanup::Postgres(cleanup),
    })
}

/// `server_url` with its database replaced by `name`.
fn database_url(server_url: &str, name: &str) -> String {
    let mut url = Url::parse(server_url).expect("DATABASE_URL is a postgres:// URL");
    url.set_path(&format!("/{name}"));
    url.into()
}

/// Connects to the server and runs `CREATE DATABASE name`.
async fn create_database(server_url: &str, name: &str) -> Result<(), String> {
    let mut conn = connect(server_url).await?;
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .map_err(|error| format!("CREATE DATABASE {name} failed: {error}"))?;
    Ok(())
}

/// One connection to the server, within [`CONNECT_TIMEOUT`].
async fn connect(server_url: &str) -> Result<PgConn, String> {
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConn::establish(server_url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_elapsed) => Err(format!("no connection within {CONNECT_TIMEOUT:?}")),
    }
}

/// Drops a test database when dropped. Works from any context (inside or
/// outside a runtime, of any flavour) by doing the work on a thread of its
/// own with a small runtime, and waiting for it.
pub(crate) struct DropDatabase {
    /// Where the database was created (never printed: it may hold a password).
    server_url: String,
    /// The database's name.
    name: String,
}

impl DropDatabase {
    /// The database's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for DropDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let outcome = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime.block_on(async {
                let mut conn = connect(&server_url).await?;
                // FORCE: pooled connections of the test may still be open.
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .map(drop)
                    .map_err(|error| error.to_string())
            })
        })
        .join();
        // Never panic in drop (it may run during a panic): report and move on.
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(why)) => eprintln!("warning: could not drop test database {}: {why}", self.name),
            Err(_panic) => eprintln!("warning: dropping test database {} panicked", self.name),
        }
    }
}
