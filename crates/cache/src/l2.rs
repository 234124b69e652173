//! L2: Redis through a bb8 pool, behind a circuit breaker.
//!
//! While Redis answers, every call goes to it, bounded by `l2_timeout` (pool checkout and
//! command together). The first call that finds it unreachable marks L2 down: one warning, the
//! `bourse_cache_l2_up` gauge drops to 0, and from then on calls skip Redis entirely (so a dead
//! Redis costs requests nothing) while a background task retries with a doubling backoff. When a
//! PING succeeds the task swaps in a freshly built pool (the old one holds connections to a server
//! that went away: `MultiplexedConnection`s do not reconnect and bb8-redis never reports them
//! broken), marks L2 up and logs once more.
//!
//! Connections are not PINGed on checkout (`test_on_check_out(false)`): that would double the
//! round trips of every cache call. A connection broken between calls fails its next command,
//! which trips the breaker and so rebuilds the pool.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::Duration;

use bb8::RunError;
use bb8_redis::RedisConnectionManager;
use bytes::Bytes;
use redis::{Cmd, FromRedisValue, Pipeline, RedisError};

use crate::config::{MAX_RETRY_BACKOFF, redact_url};
use crate::{CacheError, metric};

type RedisPool = bb8::Pool<RedisConnectionManager>;

/// Connections per pool. Each is multiplexed, so a few carry many concurrent requests.
const POOL_SIZE: u32 = 8;
/// The start-up PING may take longer than a request is allowed to (TCP, AUTH, cold server).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(3);

/// Why an L2 call returned nothing. Either way the caller carries on with L1 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum L2Error {
    /// L2 is marked down: Redis was not asked.
    Down,
    /// Redis was asked and the call failed (timed out, connection lost, or a Redis error).
    Failed,
}

/// The Redis level and its health.
pub(crate) struct L2 {
    /// Kept to build a fresh pool after an outage.
    manager: RedisConnectionManager,
    /// The pool in use. Replaced (under the write lock, with a new generation) on recovery.
    link: RwLock<Link>,
    /// Whether calls go to Redis. Only changed under the `link` write lock.
    up: AtomicBool,
    timeout: Duration,
    retry_backoff: Duration,
    /// The Redis URL without credentials, for log lines.
    url: String,
}

struct Link {
    /// Bumped whenever the pool is replaced, so a late failure from the old pool cannot mark the
    /// new one down.
    generation: u64,
    pool: RedisPool,
}

enum Request<'a> {
    Cmd(&'a Cmd),
    Pipeline(&'a Pipeline),
}

impl L2 {
    /// Parses `url`, builds the pool and PINGs once: Redis must be there at start-up.
    pub(crate) async fn connect(
        url: &str,
        timeout: Duration,
        retry_backoff: Duration,
    ) -> Result<Arc<Self>, CacheError> {
        let redacted = redact_url(url);
        let manager = RedisConnectionManager::new(url).map_err(|err| CacheError::InvalidUrl {
            url: redacted.clone(),
            reason: err.to_string(),
        })?;
        let pool = build_pool(&manager, timeout);
        let startup_timeout = timeout.max(STARTUP_TIMEOUT);
        let unreachable = |reason: String| CacheError::Unreachable {
            url: redacted.clone(),
            timeout: startup_timeout,
            reason,
        };
        let first = tokio::time::timeout(startup_timeout, async {
            let mut conn = pool.dedicated_connection().await?;
            redis::cmd("PING").query_async::<()>(&mut conn).await?;
            Ok::<_, RedisError>(conn)
        })
        .await
        .map_err(|_elapsed| unreachable("timed out".to_owned()))?
        .map_err(|err| unreachable(err.to_string()))?;
        // Seed the pool with the checked connection; if it is somehow full, dropping it is fine.
        let _ = pool.add(first);
        Ok(Arc::new(Self {
            manager,
            link: RwLock::new(Link {
                generation: 0,
                pool,
            }),
            up: AtomicBool::new(true),
            timeout,
            retry_backoff,
            url: redacted,
        }))
    }

    /// The Redis URL without credentials.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Whether calls currently go to Redis.
    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// `GET key`.
    pub(crate) async fn get(self: &Arc<Self>, key: &str) -> Result<Option<Bytes>, L2Error> {
        self.execute(Request::Cmd(redis::cmd("GET").arg(key))).await
    }

    /// `MGET keys...`, one reply per key in order.
    pub(crate) async fn get_many(
        self: &Arc<Self>,
        keys: &[&str],
    ) -> Result<Vec<Option<Bytes>>, L2Error> {
        let replies: Vec<Option<Bytes>> = self
            .execute(Request::Cmd(redis::cmd("MGET").arg(keys)))
            .await?;
        if replies.len() == keys.len() {
            Ok(replies)
        } else {
            tracing::debug!(
                asked = keys.len(),
                got = replies.len(),
                "MGET reply of the wrong length"
            );
            Err(L2Error::Failed)
        }
    }

    /// `SET key value PX ttl`.
    pub(crate) async fn set(
        self: &Arc<Self>,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), L2Error> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value).arg("PX").arg(px(ttl));
        self.execute(Request::Cmd(&cmd)).await
    }

    /// One pipelined `SET key value PX ttl` per entry.
    pub(crate) async fn set_many(
        self: &Arc<Self>,
        entries: &[(String, Vec<u8>)],
        ttl: Duration,
    ) -> Result<(), L2Error> {
        let mut pipeline = redis::pipe();
        for (key, value) in entries {
            pipeline
                .cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(px(ttl))
                .ignore();
        }
        self.execute(Request::Pipeline(&pipeline)).await
    }

    /// `DEL key`.
    pub(crate) async fn delete(self: &Arc<Self>, key: &str) -> Result<(), L2Error> {
        self.execute(Request::Cmd(redis::cmd("DEL").arg(key))).await
    }

    /// Runs one request against Redis within the timeout, tripping the breaker on outages.
    async fn execute<T: FromRedisValue>(
        self: &Arc<Self>,
        request: Request<'_>,
    ) -> Result<T, L2Error> {
        if !self.is_up() {
            return Err(L2Error::Down);
        }
        let (generation, pool) = {
            let link = self.read_link();
            (link.generation, link.pool.clone())
        };
        let attempt = async {
            let mut conn = pool.get().await?;
            let reply = match request {
                Request::Cmd(cmd) => cmd.query_async(&mut *conn).await,
                Request::Pipeline(pipeline) => pipeline.query_async(&mut *conn).await,
            };
            reply.map_err(RunError::User)
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(RunError::User(err))) if !is_outage(&err) => {
                tracing::debug!(error = %err, "Redis (L2 cache) command failed");
                Err(L2Error::Failed)
            }
            Ok(Err(RunError::User(err))) => {
                self.mark_down(generation, &err);
                Err(L2Error::Failed)
            }
            Ok(Err(RunError::TimedOut)) => {
                self.mark_down(generation, &"no pooled connection within the timeout");
                Err(L2Error::Failed)
            }
            Err(_elapsed) => {
                self.mark_down(generation, &"no reply within the timeout");
                Err(L2Error::Failed)
            }
        }
    }

    /// Stops using Redis and starts the reconnection task, unless that already happened or the
    /// failure came from a pool that has since been replaced.
    fn mark_down(self: &Arc<Self>, generation: u64, reason: &dyn fmt::Display) {
        {
            let link = self.write_link();
            if link.generation != generation || !self.up.swap(false, Ordering::AcqRel) {
                return;
            }
        }
        metric::l2_up(false);
        tracing::warn!(
            url = %self.url,
            timeout = ?self.timeout,
            retry_in = ?self.retry_backoff,
            reason = %reason,
            "Redis (L2 cache) unreachable: serving from the in-process cache only until it answers again"
        );
        tokio::spawn(reconnect(Arc::downgrade(self), self.retry_backoff));
    }

    /// Starts using Redis again, through `pool`.
    fn mark_up(&self, pool: RedisPool) {
        {
            let mut link = self.write_link();
            link.generation += 1;
            link.pool = pool;
            self.up.store(true, Ordering::Release);
        }
        metric::l2_up(true);
        tracing::info!(url = %self.url, "Redis (L2 cache) reachable again: using it");
    }

    fn read_link(&self) -> RwLockReadGuard<'_, Link> {
        // The guarded data is replaced whole, so a panic elsewhere cannot leave it half-written.
        self.link.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_link(&self) -> RwLockWriteGuard<'_, Link> {
        self.link.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for L2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("L2")
            .field("url", &self.url)
            .field("up", &self.is_up())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Retries Redis with a doubling backoff until it answers a PING, then marks L2 up. Ends early
/// when the cache is dropped.
async fn reconnect(l2: Weak<L2>, first_backoff: Duration) {
    let max_backoff = MAX_RETRY_BACKOFF.max(first_backoff);
    let mut backoff = first_backoff;
    loop {
        tokio::time::sleep(backoff).await;
        let Some(l2) = l2.upgrade() else { return };
        metric::reconnect_attempt();
        let pool = build_pool(&l2.manager, l2.timeout);
        let ping = tokio::time::timeout(l2.timeout, async {
            let mut conn = pool.get().await?;
            redis::cmd("PING")
                .query_async::<()>(&mut *conn)
                .await
                .map_err(RunError::User)
        })
        .await;
        match ping {
            Ok(Ok(())) => {
                l2.mark_up(pool);
                return;
            }
            Ok(Err(err)) => {
                tracing::debug!(error = %err, ?backoff, "Redis (L2 cache) still unreachable")
            }
            Err(_elapsed) => {
                tracing::debug!(?backoff, "Redis (L2 cache) still unreachable: timed out")
            }
        }
        backoff = (backoff * 2).min(max_backoff);
    }
}

fn build_pool(manager: &RedisConnectionManager, timeout: Duration) -> RedisPool {
    bb8::Pool::builder()
        .max_size(POOL_SIZE)
        .connection_timeout(timeout)
        .test_on_check_out(false)
        .build_unchecked(manager.clone())
}

/// Whether `err` means Redis cannot be reached (rather than that it refused one command).
fn is_outage(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_timeout()
        || err.is_unrecoverable_error()
}

/// A TTL as Redis `PX` milliseconds; Redis rejects 0.
fn px(ttl: Duration) -> u64 {
    crate::clock::millis(ttl).max(1)
}
