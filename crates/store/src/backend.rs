//! Which database engine a [`Db`](crate::Db) talks to.

use std::fmt;

/// The database engine behind a [`Db`](crate::Db): used in logs, metric labels
/// and the few places (partitioning) where the backends differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// PostgreSQL, the production backend (`DATABASE_URL=postgres://...`).
    Postgres,
    /// An embedded SQLite file in the data directory, the default when no
    /// database URL is configured.
    Sqlite,
}

impl Backend {
    /// The lower-case name used in metric labels and messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
