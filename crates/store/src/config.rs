//! How to reach the database: a PostgreSQL URL, or the embedded SQLite file.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::redact::describe_url;

/// Where the store lives and how the pool behaves. Built from the command line
/// by the runtime; [`StoreConfig::embedded`] gives laptop defaults.
#[derive(Clone)]
pub struct StoreConfig {
    /// `postgres://` (or `postgresql://`) URL of the production database.
    /// `None` selects the embedded SQLite file in [`data_dir`](Self::data_dir).
    pub database_url: Option<String>,
    /// Directory of the embedded SQLite file [`Self::SQLITE_FILE_NAME`];
    /// created on connect. Unused when a database URL is set.
    pub data_dir: PathBuf,
    /// Upper bound on pooled connections per service instance.
    pub max_connections: u32,
    /// How long establishing the first connection, and later checking a
    /// connection out of the pool, may take before failing.
    pub connect_timeout: Duration,
}

impl StoreConfig {
    /// File name of the embedded database inside [`data_dir`](Self::data_dir).
    pub const SQLITE_FILE_NAME: &'static str = "bourse.sqlite3";

    /// Embedded SQLite in `data_dir`, with pool defaults that suit a laptop.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            database_url: None,
            data_dir: data_dir.into(),
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
        }
    }

    /// The same configuration pointed at `database_url` (`None` keeps or
    /// selects the embedded SQLite file).
    #[must_use]
    pub fn with_database_url(mut self, database_url: Option<String>) -> Self {
        self.database_url = database_url;
        self
    }

    /// Path of the embedded SQLite file this configuration would open.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join(Self::SQLITE_FILE_NAME)
    }
}

/// Never prints the URL's user, password or query.
impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field(
                "database_url",
                &self.database_url.as_deref().map(describe_url),
            )
            .field("data_dir", &self.data_dir)
            .field("max_connections", &self.max_connections)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::StoreConfig;

    #[test]
    fn debug_hides_password() {
        let config = StoreConfig::embedded("/tmp/x")
            .with_database_url(Some("postgres://u:hunter2@h:5432/db".to_owned()));
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("h:5432/db"), "{printed}");
    }
}
