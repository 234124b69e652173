//! L1: the in-process moka cache.
//!
//! One moka cache holds every class, so `l1_max_entries` is one memory bound for the process
//! rather than six guesses. Each entry carries its own remaining lifetime and a [`moka::Expiry`]
//! hands it to moka, which covers per-class TTLs and L2 back-fills (which arrive already aged).
//!
//! moka expires entries on its own clock, which `tokio::time::pause()` does not move. So moka's
//! expiry is only the memory bound; whether an entry may be served is decided by the caller from
//! the insertion time stored in the entry, on the cache's tokio-driven [`crate::clock::Clock`].

use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::Expiry;
use moka::future::Cache as MokaCache;

/// A cached value and when it was first written (to any level), in Unix milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) value: Bytes,
    pub(crate) inserted_ms: u64,
    /// How much longer moka should keep it: the class's max TTL minus the entry's age.
    pub(crate) lifetime: Duration,
}

/// The process-local level. Keys are the full Redis keys, so both levels agree on identity.
#[derive(Debug, Clone)]
pub(crate) struct L1 {
    entries: MokaCache<String, Entry>,
}

impl L1 {
    pub(crate) fn new(max_entries: u64) -> Self {
        let entries = MokaCache::builder()
            .name("bourse-cache-l1")
            .max_capacity(max_entries)
            .expire_after(EntryExpiry)
            .build();
        Self { entries }
    }

    pub(crate) async fn get(&self, key: &str) -> Option<Entry> {
        self.entries.get(key).await
    }

    pub(crate) async fn insert(&self, key: String, entry: Entry) {
        self.entries.insert(key, entry).await;
    }

    pub(crate) async fn invalidate(&self, key: &str) {
        self.entries.invalidate(key).await;
    }
}

/// Tells moka to keep each entry for the lifetime it carries, also when it is overwritten.
#[derive(Debug)]
struct EntryExpiry;

impl Expiry<String, Entry> for EntryExpiry {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _at: Instant) -> Option<Duration> {
        Some(entry.lifetime)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        _at: Instant,
        _remaining: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.lifetime)
    }
}
