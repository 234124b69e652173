//! Throwaway embedded SQLite databases.

use bourse_store::{Db, StoreConfig};

use crate::test_db::{Cleanup, TestDb};

/// A fresh, migrated SQLite file database in its own temp directory, removed
/// when the returned [`TestDb`] is dropped. A file, not `:memory:`: every pooled
/// connection must see the same database.
pub async fn sqlite_db() -> TestDb {
    let dir = tempfile::Builder::new()
        .prefix("bourse-test-")
        .tempdir()
        .expect("create a temp directory for the SQLite test database");
    let config = StoreConfig {
        max_connections: 4,
        ..StoreConfig::embedded(dir.path())
    };
    let db = Db::connect(&config)
        .await
        .expect("open the SQLite test database");
    db.migrate().await.expect("apply the SQLite migrations");
    TestDb {
        db,
        config,
        cleanup: Cleanup::Sqlite(dir),
    }
}
