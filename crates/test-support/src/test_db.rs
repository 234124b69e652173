//! [`TestDb`]: a migrated database that disappears with the test.

use std::fmt;

use bourse_store::{Db, StoreConfig};
use tempfile::TempDir;

use crate::postgres::DropDatabase;

/// A freshly migrated database owned by one test. Dropping it removes the
/// database: the SQLite temp directory, or the PostgreSQL database (forcibly,
/// so connections still open elsewhere do not keep it alive).
pub struct TestDb {
    /// The pool to hand to the code under test.
    pub db: Db,
    /// The configuration `db` was connected with, for starting a service on the
    /// same database through its own `Db::connect`.
    pub config: StoreConfig,
    /// Declared last so the pool above is closed before the database goes.
    pub(crate) cleanup: Cleanup,
}

/// What has to be removed when a [`TestDb`] is dropped.
pub(crate) enum Cleanup {
    /// The temp directory holding the SQLite file; removed on drop.
    Sqlite(TempDir),
    /// The PostgreSQL database; dropped on drop.
    Postgres(DropDatabase),
}

impl fmt::Debug for TestDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = match &self.cleanup {
            Cleanup::Sqlite(dir) => dir.path().display().to_string(),
            Cleanup::Postgres(database) => database.name().to_owned(),
        };
        f.debug_struct("TestDb")
            .field("db", &self.db)
            .field("location", &location)
            .finish_non_exhaustive()
    }
}
