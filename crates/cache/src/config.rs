//! Start-up configuration of the cache.

use std::fmt;
use std::time::Duration;

use crate::TtlPolicy;

/// How a [`crate::Cache`] is built. `Default` runs on a laptop: L1 only, 100 000 entries.
#[derive(Clone)]
pub struct CacheConfig {
    /// Redis for the shared L2, e.g. `redis://127.0.0.1:6379`. `None` keeps everything in-process.
    /// May carry a password: it is never printed (see the `Debug` impl and [`crate::CacheError`]).
    pub redis_url: Option<String>,
    /// Prepended to every Redis key, so several deployments (or tests) can share one Redis.
    pub key_prefix: String,
    /// Upper bound on the number of entries held in process, across all data classes.
    pub l1_max_entries: u64,
    /// Freshness per data class and tier.
    pub ttl: TtlPolicy,
    /// The longest any request waits on Redis (pool checkout plus command). Past it the request
    /// carries on without L2 and L2 is marked down.
    pub l2_timeout: Duration,
    /// How long to wait before the first reconnection attempt once Redis is down; it doubles per
    /// failed attempt up to [`MAX_RETRY_BACKOFF`] (or this value, if larger).
    pub l2_retry_backoff: Duration,
}

/// The cap on the doubling reconnection backoff.
pub const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(10);

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            key_prefix: "bourse:".to_owned(),
            l1_max_entries: 100_000,
            ttl: TtlPolicy::default(),
            l2_timeout: Duration::from_millis(100),
            l2_retry_backoff: Duration::from_millis(500),
        }
    }
}

impl fmt::Debug for CacheConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheConfig")
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("key_prefix", &self.key_prefix)
            .field("l1_max_entries", &self.l1_max_entries)
            .field("ttl", &self.ttl)
            .field("l2_timeout", &self.l2_timeout)
            .field("l2_retry_backoff", &self.l2_retry_backoff)
            .finish()
    }
}

/// A Redis URL fit for logs and error messages: user info and query (which may hold `pass=`)
/// are dropped, scheme, host, port and database are kept.
pub(crate) fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    // The user info ends at the last '@': a password may itself contain '/', '?' or '#'.
    let (userinfo, location) = match rest.rfind('@') {
        Some(at) => ("***@", &rest[at + 1..]),
        None => ("", rest),
    };
    let location = location.split(['?', '#']).next().unwrap_or_default();
    match scheme {
        Some(scheme) => format!("{scheme}://{userinfo}{location}"),
        None => format!("{userinfo}{location}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_drops_passwords_and_keeps_the_location() {
        let cases = [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis://:hunter2@cache:6379/2", "redis://***@cache:6379/2"),
            (
                "rediss://user:p/a?s#s@cache:6380",
                "rediss://***@cache:6380",
            ),
            (
                "redis+unix:///run/redis.sock?pass=hunter2",
                "redis+unix:///run/redis.sock",
            ),
            ("user:hunter2@cache", "***@cache"),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_url(url), expected, "{url}");
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let config = CacheConfig {
            redis_url: Some("redis://:hunter2@cache:6379".into()),
            ..CacheConfig::default()
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("cache:6379"), "{printed}");
    }
}
