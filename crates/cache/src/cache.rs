//! [`Cache`]: the two-level cache the services hold in their state.

use std::fmt;
use std::sync::Arc;

use bourse_runtime::tier::Tier;
use bytes::Bytes;

use crate::clock::{Clock, age};
use crate::l1::{Entry, L1};
use crate::l2::{L2, L2Error};
use crate::metric::{self, Level};
use crate::{CacheConfig, CacheError, DataClass, TtlPolicy, wire};

/// Whether the Redis level is in use, for health checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L2Status {
    /// No Redis configured: the cache is in-process only, by choice.
    Disabled,
    /// Redis answers and every call uses it.
    Up,
    /// Redis stopped answering: calls are served from L1 while it is retried in the background.
    Down,
}

/// An in-process L1 (moka) in front of an optional shared L2 (Redis).
///
/// Calls never fail: anything the cache cannot answer (absent, too old for the reader's tier,
/// Redis down) is a miss and the caller goes to storage. Cheap to clone: clones share both levels.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    l1: L1,
    /// `None` when no Redis is configured.
    l2: Option<Arc<L2>>,
    ttl: TtlPolicy,
    key_prefix: String,
    /// Insertion times and freshness checks; driven by tokio's clock so tests can move time.
    clock: Clock,
}

impl Cache {
    /// Builds the cache described by `config`. With a `redis_url`, Redis must answer a PING now:
    /// a bad URL or an unreachable Redis at start-up is an error. Outages after that only degrade
    /// the cache to L1. Without a `redis_url` this is [`Cache::in_process`].
    pub async fn connect(config: CacheConfig) -> Result<Cache, CacheError> {
        let Some(url) = config.redis_url.as_deref() else {
            return Ok(Self::in_process(config));
        };
        let l2 = L2::connect(url, config.l2_timeout, config.l2_retry_backoff).await?;
        metric::l2_up(true);
        tracing::info!(
            url = l2.url(),
            key_prefix = %config.key_prefix,
            l1_max_entries = config.l1_max_entries,
            l2_timeout = ?config.l2_timeout,
            "cache: in-process L1 in front of Redis L2"
        );
        Ok(Self::build(config, Some(l2)))
    }

    /// Builds an in-process cache only (any `redis_url` is ignored): entries are not shared with
    /// other instances.
    pub fn in_process(config: CacheConfig) -> Cache {
        metric::l2_up(false);
        tracing::info!(
            l1_max_entries = config.l1_max_entries,
            redis_url_ignored = config.redis_url.is_some(),
            "cache: no Redis, in-process L1 only (entries are not shared between instances)"
        );
        Self::build(config, None)
    }

    fn build(config: CacheConfig, l2: Option<Arc<L2>>) -> Cache {
        Cache {
            inner: Arc::new(Inner {
                l1: L1::new(config.l1_max_entries),
                l2,
                ttl: config.ttl,
                key_prefix: config.key_prefix,
                clock: Clock::new(),
            }),
        }
    }

    /// The value under (`class`, `key`) if one is fresh enough for `tier`; L1 first, then Redis.
    /// A Redis hit is copied into L1 with its original insertion time.
    pub async fn get(&self, class: DataClass, tier: Tier, key: &str) -> Option<Bytes> {
        let inner = &*self.inner;
        let full_key = inner.full_key(class, key);
        let now = inner.clock.now_ms();
        let cached = inner.l1.get(&full_key).await;
        if let Some(entry) = &cached
            && age(now, entry.inserted_ms) < inner.ttl.ttl(class, tier)
        {
            metric::request(class, tier, Level::L1, true);
            return Some(entry.value.clone());
        }
        metric::request(class, tier, Level::L1, false);
        let l2 = inner.l2.as_ref()?;
        match l2.get(&full_key).await {
            Ok(raw) => {
                let l1_inserted = cached.map(|entry| entry.inserted_ms);
                inner
                    .answer_from_l2(class, tier, full_key, raw, l1_inserted, now)
                    .await
            }
            Err(err) => {
                count_failure(err, class, "get");
                None
            }
        }
    }

    /// [`Cache::get`] for several keys: results in the order of `keys`, with one `MGET` for all
    /// the keys L1 could not answer.
    pub async fn get_many(
        &self,
        class: DataClass,
        tier: Tier,
        keys: &[&str],
    ) -> Vec<Option<Bytes>> {
        let inner = &*self.inner;
        let now = inner.clock.now_ms();
        let fresh_for = inner.ttl.ttl(class, tier);
        let mut results = Vec::with_capacity(keys.len());
        // (position in `keys`, full key, insertion time of a stale L1 entry)
        let mut misses: Vec<(usize, String, Option<u64>)> = Vec::new();
        for (position, key) in keys.iter().enumerate() {
            let full_key = inner.full_key(class, key);
            match inner.l1.get(&full_key).await {
                Some(entry) if age(now, entry.inserted_ms) < fresh_for => {
                    metric::request(class, tier, Level::L1, true);
                    results.push(Some(entry.value));
                }
                stale_or_absent => {
                    metric::request(class, tier, Level::L1, false);
                    results.push(None);
                    misses.push((position, full_key, stale_or_absent.map(|e| e.inserted_ms)));
                }
            }
        }
        let Some(l2) = inner.l2.as_ref().filter(|_| !misses.is_empty()) else {
            return results;
        };
        let miss_keys: Vec<&str> = misses.iter().map(|(_, key, _)| key.as_str()).collect();
        match l2.get_many(&miss_keys).await {
            Ok(replies) => {
                for ((position, full_key, l1_inserted), raw) in misses.into_iter().zip(replies) {
                    let value = inner
                        .answer_from_l2(class, tier, full_key, raw, l1_inserted, now)
                        .await;
                    if let Some(slot) = results.get_mut(position) {
                        *slot = value;
                    }
                }
            }
            Err(err) => count_failure(err, class, "get_many"),
        }
        results
    }

    /// Stores `value` under (`class`, `key`) in both levels, for the class's longest TTL.
    pub async fn set(&self, class: DataClass, key: &str, value: Bytes) {
        let inner = &*self.inner;
        let lifetime = inner.ttl.max_ttl(class);
        if lifetime.is_zero() {
            return;
        }
        let full_key = inner.full_key(class, key);
        let inserted_ms = inner.clock.now_ms();
        let raw = inner
            .l2
            .is_some()
            .then(|| wire::encode(inserted_ms, &value));
        let entry = Entry {
            value,
            inserted_ms,
            lifetime,
        };
        inner.l1.insert(full_key.clone(), entry).await;
        if let (Some(l2), Some(raw)) = (&inner.l2, raw)
            && let Err(err) = l2.set(&full_key, &raw, lifetime).await
        {
            count_failure(err, class, "set");
        }
    }

    /// [`Cache::set`] for several entries, pipelined to Redis in one round trip.
    pub async fn set_many(&self, class: DataClass, entries: &[(&str, Bytes)]) {
        let inner = &*self.inner;
        let lifetime = inner.ttl.max_ttl(class);
        if lifetime.is_zero() || entries.is_empty() {
            return;
        }
        let inserted_ms = inner.clock.now_ms();
        let mut for_l2 = Vec::with_capacity(if inner.l2.is_some() { entries.len() } else { 0 });
        for (key, value) in entries {
            let full_key = inner.full_key(class, key);
            if inner.l2.is_some() {
                for_l2.push((full_key.clone(), wire::encode(inserted_ms, value)));
            }
            let entry = Entry {
                value: value.clone(),
                inserted_ms,
                lifetime,
            };
            inner.l1.insert(full_key, entry).await;
        }
        if let Some(l2) = &inner.l2
            && let Err(err) = l2.set_many(&for_l2, lifetime).await
        {
            count_failure(err, class, "set_many");
        }
    }

    /// Stores `value` under (`class`, `key`) in this process's L1 only, as fresh as if just
    /// written. For values another process has already written to Redis and announced (the
    /// quote relay): refreshing the local copy then costs no second Redis write.
    pub async fn set_local(&self, class: DataClass, key: &str, value: Bytes) {
        let inner = &*self.inner;
        let lifetime = inner.ttl.max_ttl(class);
        if lifetime.is_zero() {
            return;
        }
        let entry = Entry {
            value,
            inserted_ms: inner.clock.now_ms(),
            lifetime,
        };
        inner.l1.insert(inner.full_key(class, key), entry).await;
    }

    /// Removes (`class`, `key`) from L1 and Redis. Other instances' L1 copies live on until their
    /// TTL runs out. An invalidation that cannot reach Redis (down or failing) is counted in
    /// `bourse_cache_errors_total{op="invalidate"}`: Redis may then serve the old value until
    /// the class's longest TTL.
    pub async fn invalidate(&self, class: DataClass, key: &str) {
        let inner = &*self.inner;
        let full_key = inner.full_key(class, key);
        inner.l1.invalidate(&full_key).await;
        metric::invalidation(class);
        if let Some(l2) = &inner.l2
            && l2.delete(&full_key).await.is_err()
        {
            metric::error(class, "invalidate");
        }
    }

    /// Whether Redis is configured and in use.
    pub async fn l2_status(&self) -> L2Status {
        match &self.inner.l2 {
            None => L2Status::Disabled,
            Some(l2) if l2.is_up() => L2Status::Up,
            Some(_) => L2Status::Down,
        }
    }
}

impl Inner {
    /// `{key_prefix}{class}:{key}`: the Redis key, also used as the L1 key.
    fn full_key(&self, class: DataClass, key: &str) -> String {
        let class = class.as_str();
        let mut full_key =
            String::with_capacity(self.key_prefix.len() + class.len() + 1 + key.len());
        full_key.push_str(&self.key_prefix);
        full_key.push_str(class);
        full_key.push(':');
        full_key.push_str(key);
        full_key
    }

    /// Interprets a Redis reply for `full_key`: back-fills L1 when the entry is newer than what
    /// L1 holds and still within the class's lifetime, and returns it if fresh enough for `tier`.
    async fn answer_from_l2(
        &self,
        class: DataClass,
        tier: Tier,
        full_key: String,
        raw: Option<Bytes>,
        l1_inserted: Option<u64>,
        now: u64,
    ) -> Option<Bytes> {
        let Some(raw) = raw else {
            metric::request(class, tier, Level::L2, false);
            return None;
        };
        let Some((inserted_ms, value)) = wire::decode(raw) else {
            metric::error(class, "decode");
            metric::request(class, tier, Level::L2, false);
            return None;
        };
        let entry_age = age(now, inserted_ms);
        let max_ttl = self.ttl.max_ttl(class);
        if entry_age < max_ttl && l1_inserted.is_none_or(|l1| inserted_ms > l1) {
            let entry = Entry {
                value: value.clone(),
                inserted_ms,
                lifetime: max_ttl - entry_age,
            };
            self.l1.insert(full_key, entry).await;
        }
        let fresh = entry_age < self.ttl.ttl(class, tier);
        metric::request(class, tier, Level::L2, fresh);
        fresh.then_some(value)
    }
}

/// Counts a failed L2 call; a call skipped because L2 is down is not a new failure.
fn count_failure(err: L2Error, class: DataClass, op: &'static str) {
    if err == L2Error::Failed {
        metric::error(class, op);
    }
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("key_prefix", &self.inner.key_prefix)
            .field("ttl", &self.inner.ttl)
            .field("l2", &self.inner.l2)
            .finish_non_exhaustive()
    }
}
