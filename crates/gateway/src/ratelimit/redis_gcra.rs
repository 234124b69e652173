//! The budget every gateway replica shares: GCRA in one atomic Lua script on Redis.
//!
//! The script keeps one value per key, its theoretical arrival time (TAT) in microseconds of
//! the Redis server's clock (`TIME`), so replicas with skewed clocks still agree. Given the
//! interval `T = 1/rate` (µs) and the burst `b`, a request at `now` is admitted when
//! `max(TAT, now) + T - b*T <= now`; then the TAT moves to `max(TAT, now) + T` and expires (PX)
//! when it falls back to `now`, the moment the state equals "never seen". It answers
//! `{allowed, remaining, retry_after_us, reset_us}`.
//!
//! Every call (pool checkout and script together) is bounded by a short timeout. A failure
//! makes the replica skip Redis for a back-off, deciding locally meanwhile, so an outage costs
//! requests no latency; then one request probes Redis again. The pool is rebuilt after each
//! failure: its multiplexed connections do not reconnect, and bb8-redis never reports them
//! broken.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::Duration;

use bb8_redis::RedisConnectionManager;
use redis::{RedisError, Script};
use tokio::time::Instant;

use super::gcra::{Decision, Limit};

/// The prefix of every rate-limit key in Redis; the key id follows.
pub const KEY_PREFIX: &str = "bourse:ratelimit:";
/// Connections per replica; each is multiplexed, so a few carry all requests.
const POOL_SIZE: u32 = 4;

/// The GCRA script (see the module documentation).
const GCRA_LUA: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
local allow_at = next_tat - burst * interval
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
local ttl_ms = math.ceil((next_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', ttl_ms)
return {1, math.floor((now - allow_at) / interval), 0, next_tat - now}
";

type RedisPool = bb8::Pool<RedisConnectionManager>;

/// Why a Redis decision was not made.
#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error("timed out")]
    Timeout,
    #[error(transparent)]
    Redis(#[from] RedisError),
    #[error("no connection: {0}")]
    Pool(String),
}

/// GCRA decisions made by Redis.
#[derive(Debug)]
pub struct RedisGcra {
    /// Kept to build a fresh pool after a failure.
    manager: RedisConnectionManager,
    pool: RwLock<RedisPool>,
    script: Script,
    prefix: String,
    timeout: Duration,
    health: Health,
}

impl RedisGcra {
    /// A limiter on the Redis at `url`; connects lazily, so start-up never waits for Redis.
    pub fn new(
        url: &str,
        prefix: &str,
        timeout: Duration,
        backoff: Duration,
    ) -> Result<Self, RedisError> {
        let manager = RedisConnectionManager::new(url)?;
        Ok(Self {
            pool: RwLock::new(build_pool(&manager, timeout)),
            manager,
            script: Script::new(GCRA_LUA),
            prefix: prefix.to_owned(),
            timeout,
            health: Health::new(backoff),
        })
    }

    /// Redis's decision for one request of `key_id`, or `None` when Redis failed or is being
    /// skipped after a failure: the caller then decides locally.
    pub async fn check(&self, key_id: &str, limit: Limit) -> Option<Decision> {
        if !self.health.should_try(Instant::now()) {
            return None;
        }
        match self.call(key_id, limit).await {
            Ok(decision) => {
                if self.health.succeeded() {
                    tracing::info!("Redis answers again: rate limits are shared across replicas");
                }
                Some(decision)
            }
            Err(error) => {
                self.rebuild_pool();
                if self.health.failed(Instant::now()) {
                    tracing::warn!(
                        %error,
                        backoff = ?self.health.backoff,
                        "Redis unreachable: rate limits are enforced per replica until it answers"
                    );
                } else {
                    tracing::debug!(%error, "Redis still unreachable for rate limits");
                }
                None
            }
        }
    }

    async fn call(&self, key_id: &str, limit: Limit) -> Result<Decision, CallError> {
        let pool = self
            .pool
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut invocation = self.script.key(format!("{}{key_id}", self.prefix));
        invocation
            .arg(limit.interval_micros())
            .arg(limit.burst().get());
        let reply = tokio::time::timeout(self.timeout, async {
            let mut conn = pool
                .get()
                .await
                .map_err(|error| CallError::Pool(error.to_string()))?;
            let reply: (i64, i64, i64, i64) = invocation.invoke_async(&mut *conn).await?;
            Ok::<_, CallError>(reply)
        })
        .await
        .map_err(|_elapsed| CallError::Timeout)??;
        Ok(decision(reply))
    }

    fn rebuild_pool(&self) {
        let fresh = build_pool(&self.manager, self.timeout);
        *self.pool.write().unwrap_or_else(PoisonError::into_inner) = fresh;
    }
}

fn build_pool(manager: &RedisConnectionManager, timeout: Duration) -> RedisPool {
    bb8::Pool::builder()
        .max_size(POOL_SIZE)
        .connection_timeout(timeout)
        .test_on_check_out(false)
        .build_unchecked(manager.clone())
}

/// The script's reply as a decision; negative numbers (which it never returns) count as zero.
fn decision((allowed, remaining, retry_after_us, reset_us): (i64, i64, i64, i64)) -> Decision {
    let micros = |value: i64| Duration::from_micros(u64::try_from(value).unwrap_or(0));
    Decision {
        allowed: allowed == 1,
        remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
        retry_after: micros(retry_after_us),
        reset: micros(reset_us),
    }
}

/// Whether to ask Redis: yes while it answers; after a failure, no for a back-off, then one
/// request probes it (and the next back-off starts, should the probe fail too).
#[derive(Debug)]
struct Health {
    up: AtomicBool,
    retry_at: Mutex<Instant>,
    backoff: Duration,
}

impl Health {
    fn new(backoff: Duration) -> Self {
        Self {
            up: AtomicBool::new(true),
            retry_at: Mutex::new(Instant::now()),
            backoff,
        }
    }

    fn should_try(&self, now: Instant) -> bool {
        if self.up.load(Ordering::Acquire) {
            return true;
        }
        let mut retry_at = self.retry_at.lock().unwrap_or_else(PoisonError::into_inner);
        if now < *retry_at {
            return false;
        }
        *retry_at = now + self.backoff;
        true
    }

    /// Records a failure; true when Redis was considered up until now (worth one warning).
    fn failed(&self, now: Instant) -> bool {
        *self.retry_at.lock().unwrap_or_else(PoisonError::into_inner) = now + self.backoff;
        self.up.swap(false, Ordering::AcqRel)
    }

    /// Records an answer; true when Redis was considered down until now.
    fn succeeded(&self) -> bool {
        !self.up.swap(true, Ordering::AcqRel)
    }
}

#[cfg(test)]
mod tests {
    use bourse_test_support::{redis_url, unique_prefix};

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(1);

    fn limit(per_second: u32, burst: u32) -> Limit {
        Limit::new(per_second, burst).expect("non-zero")
    }

    fn gcra(url: &str, prefix: &str) -> RedisGcra {
        RedisGcra::new(url, prefix, TIMEOUT, Duration::from_secs(1)).expect("valid URL")
    }

    #[tokio::test]
    async fn the_script_admits_the_burst_then_refuses() {
        let Some(url) = redis_url() else { return };
        let redis = gcra(&url, &unique_prefix("ratelimit_burst"));
        // One per second: the few milliseconds between calls refill nothing measurable.
        let limit = limit(1, 10);
        for expected_remaining in (0..10).rev() {
            let decision = redis.check("key", limit).await.expect("Redis answers");
            assert!(decision.allowed);
            assert_eq!(decision.remaining, expected_remaining);
            assert!(decision.reset <= Duration::from_secs(10));
        }
        let refused = redis.check("key", limit).await.expect("Redis answers");
        assert!(!refused.allowed, "the 11th request of a burst of 10");
        assert_eq!(refused.remaining, 0);
        assert!(
            refused.retry_after > Duration::from_millis(900)
                && refused.retry_after <= Duration::from_secs(1),
            "one interval, less the time the burst took: {:?}",
            refused.retry_after
        );
        assert!(
            refused.reset > Duration::from_secs(9) && refused.reset <= Duration::from_secs(10),
            "ten intervals until the burst is whole: {:?}",
            refused.reset
        );
        let other = redis
            .check("other-key", limit)
            .await
            .expect("Redis answers");
        assert!(other.allowed, "another key has its own budget");
    }

    #[tokio::test]
    async fn the_state_expires_once_the_burst_has_refilled() {
        let Some(url) = redis_url() else { return };
        let prefix = unique_prefix("ratelimit_expiry");
        let redis = gcra(&url, &prefix);
        redis
            .check("key", limit(2, 10))
            .await
            .expect("Redis answers");
        let client = redis::Client::open(url.as_str()).expect("valid URL");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("connects");
        let ttl: i64 = redis::cmd("PTTL")
            .arg(format!("{prefix}key"))
            .query_async(&mut conn)
            .await
            .expect("PTTL");
        assert!((1..=500).contains(&ttl), "one interval of 500 ms: {ttl}");
    }

    #[tokio::test]
    async fn an_unreachable_redis_gives_no_decision() {
        let redis = gcra("redis://127.0.0.1:1", KEY_PREFIX);
        assert_eq!(redis.check("key", limit(1, 1)).await, None);
        assert!(!redis.health.up.load(Ordering::Acquire));
    }

    #[test]
    fn a_failure_skips_redis_for_the_backoff_then_one_request_probes() {
        let backoff = Duration::from_secs(1);
        let health = Health::new(backoff);
        let start = Instant::now();
        assert!(health.should_try(start));
        assert!(health.failed(start), "the first failure is reported");
        assert!(!health.should_try(start + Duration::from_millis(999)));
        assert!(health.should_try(start + backoff), "the probe");
        assert!(
            !health.should_try(start + backoff),
            "only one request probes"
        );
        assert!(
            !health.failed(start + backoff),
            "still down: not reported again"
        );
        assert!(!health.should_try(start + backoff + Duration::from_millis(500)));
        assert!(health.should_try(start + backoff * 2));
        assert!(health.succeeded(), "recovery is reported");
        assert!(health.should_try(start + backoff * 2));
        assert!(!health.succeeded());
    }

    #[test]
    fn replies_become_decisions() {
        assert_eq!(
            decision((0, 0, 200_000, 2_000_000)),
            Decision {
                allowed: false,
                remaining: 0,
                retry_after: Duration::from_millis(200),
                reset: Duration::from_secs(2),
            }
        );
        assert_eq!(decision((1, -3, -1, 5)).remaining, 0);
    }
}
