//! The one error type of the storage layer.
//!
//! Messages are written for an operator reading a log line: they say what was
//! attempted and against which database, and never contain the user, password
//! or query of a database URL. Each message already includes the underlying
//! cause, so the causes are not chained again as `source()`.

use std::path::PathBuf;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::{Backend, PoolRunError};

/// Everything that can go wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The configured database URL cannot be used (unparseable, or a scheme
    /// other than `postgres://`).
    #[error("invalid database URL: {reason}")]
    InvalidUrl {
        /// What is wrong with it; never the URL itself.
        reason: String,
    },
    /// The embedded database's directory could not be created or used.
    #[error("cannot use SQLite data directory {}: {reason}", path.display())]
    DataDir {
        /// The directory that was configured.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// The first connection could not be established at start-up.
    #[error("cannot reach {backend} database at {target}: {reason}")]
    Unreachable {
        /// Which engine was being connected to.
        backend: Backend,
        /// `host:port/database` or the SQLite file path, without credentials.
        target: String,
        /// The driver's reason, or the timeout that expired.
        reason: String,
    },
    /// The pool could not hand out a connection in time (database down,
    /// or every connection busy for longer than the connect timeout).
    #[error("no database connection available: {0}")]
    Pool(PoolRunError),
    /// A statement failed. Match on the inner error for `NotFound` or
    /// constraint violations, or use the `is_*` helpers.
    #[error("database query failed: {0}")]
    Query(DieselError),
    /// Applying the embedded migrations failed.
    #[error("database migration failed: {reason}")]
    Migration {
        /// The failing migration and the database's message.
        reason: String,
    },
}

impl StoreError {
    /// Whether a query found no row (`get_result`/`first` on an empty result).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Query(DieselError::NotFound))
    }

    /// Whether a statement violated a unique or primary-key constraint, i.e.
    /// the row already exists.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        Self::Query(error)
    }
}

impl From<PoolRunError> for StoreError {
    fn from(error: PoolRunError) -> Self {
        Self::Pool(error)
    }
}
