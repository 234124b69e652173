//! The cache's notion of "now", in Unix milliseconds, driven by tokio's clock.
//!
//! Insertion times are stored with every entry (in L1, and as an 8-byte header in Redis so other
//! processes can judge freshness), so they have to be wall-clock based. But tests need to move
//! time with `tokio::time::pause()`/`advance()`. The clock therefore reads the wall clock once,
//! when the cache is built, and advances from there with `tokio::time::Instant`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Unix milliseconds, anchored to the wall clock at construction and advanced by tokio's clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// Wall-clock Unix milliseconds at construction.
    anchor_unix_ms: u64,
    /// tokio's instant at construction.
    anchor: Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Self {
            anchor_unix_ms: millis(since_epoch),
            anchor: Instant::now(),
        }
    }

    /// The current time in Unix milliseconds.
    pub(crate) fn now_ms(&self) -> u64 {
        self.anchor_unix_ms
            .saturating_add(millis(self.anchor.elapsed()))
    }
}

/// How long ago `inserted_ms` was, as seen at `now_ms`. An entry from a process whose clock runs
/// ahead of ours counts as brand new rather than from the future.
pub(crate) fn age(now_ms: u64, inserted_ms: u64) -> Duration {
    Duration::from_millis(now_ms.saturating_sub(inserted_ms))
}

/// A duration in whole milliseconds, saturating (a u64 of milliseconds is 584 million years).
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_tokio_time() {
        let clock = Clock::new();
        let start = clock.now_ms();
        tokio::time::advance(Duration::from_millis(1_234)).await;
        assert_eq!(clock.now_ms() - start, 1_234);
        assert_eq!(age(clock.now_ms(), start), Duration::from_millis(1_234));
        assert_eq!(age(start, clock.now_ms()), Duration::ZERO);
    }
}
