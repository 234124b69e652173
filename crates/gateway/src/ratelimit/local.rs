//! The in-process limiter: one `governor` GCRA per API key, in a bounded map.
//!
//! It is the limiter of a single replica (no Redis configured) and the fallback of a replica
//! whose Redis is unreachable. Its budget is this process's alone: during a Redis outage each
//! replica admits a key's full rate, which errs on the side of serving customers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use super::gcra::{Decision, Limit};

/// Keys tracked at most; the least recently used are dropped first.
pub const MAX_KEYS: u64 = 100_000;
/// A key idle this long is dropped: its burst has long refilled (windows are seconds), so
/// forgetting it changes no decision.
pub const IDLE_EVICTION: Duration = Duration::from_secs(300);

type KeyBucket<C> = RateLimiter<NotKeyed, InMemoryState, C, StateInformationMiddleware>;

/// One key's GCRA state and the limit it was built for.
struct Bucket<C: Clock> {
    limit: Limit,
    gcra: KeyBucket<C>,
}

/// Per-key GCRA limiters held in memory.
pub struct LocalGcra<C: Clock = DefaultClock> {
    clock: C,
    buckets: moka::future::Cache<String, Arc<Bucket<C>>>,
}

impl<C: Clock> fmt::Debug for LocalGcra<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalGcra")
            .field("keys", &self.buckets.entry_count())
            .finish()
    }
}

impl LocalGcra {
    /// Limiters on the real clock.
    pub fn new() -> Self {
        Self::with_clock(DefaultClock::default())
    }
}

impl Default for LocalGcra {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> LocalGcra<C>
where
    C: Clock + Clone + Send + Sync + 'static,
{
    /// Limiters on `clock` (a fake one in tests).
    pub fn with_clock(clock: C) -> Self {
        let buckets = moka::future::Cache::builder()
            .max_capacity(MAX_KEYS)
            .time_to_idle(IDLE_EVICTION)
            .build();
        Self { clock, buckets }
    }

    /// Admits or refuses one request of `key_id` under `limit`.
    pub async fn check(&self, key_id: &str, limit: Limit) -> Decision {
        let bucket = self
            .buckets
            .get_with_by_ref(key_id, async { self.bucket(limit) })
            .await;
        let bucket = if bucket.limit == limit {
            bucket
        } else {
            // The key's limit changed (a trusted tier header, new flags): start afresh.
            let bucket = self.bucket(limit);
            self.buckets.insert(key_id.to_owned(), bucket.clone()).await;
            bucket
        };
        self.decide(&bucket)
    }

    fn bucket(&self, limit: Limit) -> Arc<Bucket<C>> {
        // Same interval as the Redis script, so both answer alike.
        let quota = Quota::with_period(limit.interval())
            .unwrap_or_else(|| Quota::per_second(limit.per_second()))
            .allow_burst(limit.burst());
        Arc::new(Bucket {
            limit,
            gcra: RateLimiter::new(quota, InMemoryState::default(), self.clock.clone()),
        })
    }

    fn decide(&self, bucket: &Bucket<C>) -> Decision {
        let interval = bucket.limit.interval();
        let burst = bucket.limit.burst().get();
        match bucket.gcra.check() {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Decision {
                    allowed: true,
                    remaining,
                    retry_after: Duration::ZERO,
                    // governor keeps the arrival time private; this is it to within one interval.
                    reset: interval * burst.saturating_sub(remaining),
                }
            }
            Err(not_until) => {
                let retry_after = not_until.wait_time_from(self.clock.now());
                Decision {
                    allowed: false,
                    remaining: 0,
                    retry_after,
                    // Refused at TAT - tolerance - wait; the burst is whole at TAT.
                    reset: retry_after + interval * burst.saturating_sub(1),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limit(per_second: u32, burst: u32) -> Limit {
        Limit::new(per_second, burst).expect("non-zero")
    }

    #[tokio::test]
    async fn admits_the_burst_then_refuses_until_one_interval_passes() {
        let clock = FakeRelativeClock::default();
        let local = LocalGcra::with_clock(clock.clone());
        let limit = limit(5, 10);
        for expected_remaining in (0..10).rev() {
            let decision = local.check("key", limit).await;
            assert!(decision.allowed);
            assert_eq!(decision.remaining, expected_remaining);
        }
        let refused = local.check("key", limit).await;
        assert!(!refused.allowed, "the 11th request of a burst of 10");
        assert_eq!(refused.retry_after, Duration::from_millis(200));
        assert_eq!(refused.retry_after_seconds(), 1);
        assert_eq!(refused.reset, Duration::from_secs(2));

        clock.advance(Duration::from_millis(199));
        assert!(!local.check("key", limit).await.allowed);
        clock.advance(Duration::from_millis(1));
        let admitted = local.check("key", limit).await;
        assert!(admitted.allowed, "one interval later");
        assert_eq!(admitted.remaining, 0);
    }

    #[tokio::test]
    async fn keys_have_their_own_budgets() {
        let local = LocalGcra::with_clock(FakeRelativeClock::default());
        let limit = limit(1, 1);
        assert!(local.check("a", limit).await.allowed);
        assert!(!local.check("a", limit).await.allowed);
        assert!(local.check("b", limit).await.allowed);
    }

    #[tokio::test]
    async fn a_changed_limit_takes_effect() {
        let local = LocalGcra::with_clock(FakeRelativeClock::default());
        assert!(local.check("a", limit(1, 1)).await.allowed);
        assert!(!local.check("a", limit(1, 1)).await.allowed);
        let wider = local.check("a", limit(10, 20)).await;
        assert!(wider.allowed);
        assert_eq!(wider.remaining, 19);
    }
}
