//! Errors of building a cache. Once built, cache calls never fail: they degrade to misses.

use std::time::Duration;

/// Why [`crate::Cache::connect`] could not build a cache. Messages never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The Redis URL does not parse.
    #[error("invalid Redis URL {url}: {reason}")]
    InvalidUrl {
        /// The URL with its credentials removed.
        url: String,
        /// What the parser objected to.
        reason: String,
    },
    /// Redis did not answer a PING at start-up. Failing fast here beats a service that silently
    /// runs without its shared cache because of a typo in the address.
    #[error("Redis at {url} is unreachable at start-up (waited up to {timeout:?}): {reason}")]
    Unreachable {
        /// The URL with its credentials removed.
        url: String,
        /// How long the start-up check waited.
        timeout: Duration,
        /// The connection or protocol error, or "timed out".
        reason: String,
    },
}
