//! Shared helpers: the Redis the tests run against, unique key prefixes, raw Redis access.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bourse_cache::{Bytes, CacheConfig, DataClass};
use redis::aio::MultiplexedConnection;

/// A key prefix no other test (or earlier run) uses.
pub(crate) fn unique_prefix(test: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("bourse-test:{test}:{}:{nanos}:{n}:", std::process::id())
}

/// A config with a unique prefix and timeouts short enough for tests.
pub(crate) fn config(redis_url: Option<String>, test: &str) -> CacheConfig {
    CacheConfig {
        redis_url,
        key_prefix: unique_prefix(test),
        l2_timeout: Duration::from_millis(100),
        l2_retry_backoff: Duration::from_millis(50),
        ..CacheConfig::default()
    }
}

pub(crate) fn bytes(text: &'static str) -> Bytes {
    Bytes::from_static(text.as_bytes())
}

/// The wall clock in Unix milliseconds, as the cache stores insertion times.
pub(crate) fn now_unix_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    u64::try_from(since_epoch.as_millis()).expect("milliseconds fit in u64")
}

/// Direct access to the Redis the tests use, bypassing the cache.
pub(crate) struct TestRedis {
    pub(crate) url: String,
    conn: MultiplexedConnection,
}

impl TestRedis {
    /// The Redis in `REDIS_URL`, or `None` (with a note on stderr) when it is not configured.
    /// Under `CI=true` a missing or unreachable Redis fails the test instead: CI never skips.
    pub(crate) async fn from_env(test: &str) -> Option<TestRedis> {
        let in_ci = std::env::var("CI").is_ok_and(|ci| ci == "true");
        let Ok(url) = std::env::var("REDIS_URL") else {
            assert!(
                !in_ci,
                "CI=true but REDIS_URL is unset: the Redis tests must run in CI"
            );
            eprintln!("skipping {test}: REDIS_URL is unset");
            return None;
        };
        let connected = async {
            let client = redis::Client::open(url.as_str())?;
            let mut conn = client.get_multiplexed_async_connection().await?;
            redis::cmd("PING").query_async::<()>(&mut conn).await?;
            Ok::<_, redis::RedisError>(conn)
        };
        match tokio::time::timeout(Duration::from_secs(3), connected).await {
            Ok(Ok(conn)) => Some(TestRedis { url, conn }),
            failed => {
                let reason = match failed {
                    Ok(Err(err)) => err.to_string(),
                    _ => "timed out".to_owned(),
                };
                assert!(
                    !in_ci,
                    "CI=true but Redis at REDIS_URL is unreachable: {reason}"
                );
                eprintln!("skipping {test}: Redis at REDIS_URL is unreachable: {reason}");
                None
            }
        }
    }

    /// The socket address behind the URL, for the proxy.
    pub(crate) fn addr(&self) -> SocketAddr {
        let info: redis::ConnectionInfo =
            redis::IntoConnectionInfo::into_connection_info(self.url.as_str())
                .expect("REDIS_URL parses");
        match info.addr() {
            redis::ConnectionAddr::Tcp(host, port) => (host.as_str(), *port)
                .to_socket_addrs()
                .expect("REDIS_URL's host resolves")
                .next()
                .expect("REDIS_URL's host has an address"),
            other => panic!("the proxy tests need a plain TCP REDIS_URL, not {other:?}"),
        }
    }

    pub(crate) fn key(prefix: &str, class: DataClass, key: &str) -> String {
        format!("{prefix}{}:{key}", class.as_str())
    }

    pub(crate) async fn get_raw(&mut self, key: &str) -> Option<Vec<u8>> {
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut self.conn)
            .await
            .expect("GET")
    }

    /// Writes a value in the cache's wire format: 8-byte big-endian insertion millis, then bytes.
    pub(crate) async fn put_entry(&mut self, key: &str, inserted_ms: u64, value: &[u8]) {
        let mut raw = inserted_ms.to_be_bytes().to_vec();
        raw.extend_from_slice(value);
        let () = redis::cmd("SET")
            .arg(key)
            .arg(raw)
            .arg("EX")
            .arg(60)
            .query_async(&mut self.conn)
            .await
            .expect("SET");
    }

    pub(crate) async fn delete(&mut self, key: &str) {
        let _: i64 = redis::cmd("DEL")
            .arg(key)
            .query_async(&mut self.conn)
            .await
            .expect("DEL");
    }

    /// Remaining time to live of `key` in milliseconds (negative: no TTL or no key).
    pub(crate) async fn pttl(&mut self, key: &str) -> i64 {
        redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut self.conn)
            .await
            .expect("PTTL")
    }

    /// Deletes every key under `prefix`.
    pub(crate) async fn cleanup(&mut self, prefix: &str) {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query_async(&mut self.conn)
            .await
            .expect("KEYS");
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL")
                .arg(keys)
                .query_async(&mut self.conn)
                .await
                .expect("DEL");
        }
    }
}
