//! The Generic Cell Rate Algorithm's parameters and answers, shared by the Redis script and the
//! local fallback so both decide (and report) the same way.
//!
//! A [`Limit`] of rate `r` and burst `b` admits `b` requests at once and then one every `1/r`
//! seconds: the state is a theoretical arrival time (TAT); a request at `now` is admitted when
//! `max(TAT, now) + 1/r - b/r <= now`, and then moves the TAT on by `1/r`.

use std::num::NonZeroU32;
use std::time::Duration;

/// A rate and a burst: the budget of one API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    per_second: NonZeroU32,
    burst: NonZeroU32,
}

impl Limit {
    /// `per_second` sustained, up to `burst` at once; `None` when either is zero.
    pub fn new(per_second: u32, burst: u32) -> Option<Self> {
        Some(Self {
            per_second: NonZeroU32::new(per_second)?,
            burst: NonZeroU32::new(burst)?,
        })
    }

    /// Requests per second, sustained.
    pub fn per_second(self) -> NonZeroU32 {
        self.per_second
    }

    /// Requests admitted at once by a key that has been idle.
    pub fn burst(self) -> NonZeroU32 {
        self.burst
    }

    /// The same burst window (burst / rate) at another rate: a key's own limit keeps the shape
    /// of its tier's default, so with the defaults (burst = 2 x rate) it may burst two seconds'
    /// worth of requests. Rounded up, at least 1.
    pub fn at_rate(self, per_second: NonZeroU32) -> Self {
        let burst = (u64::from(per_second.get()) * u64::from(self.burst.get()))
            .div_ceil(u64::from(self.per_second.get()));
        let burst = u32::try_from(burst).unwrap_or(u32::MAX);
        Self {
            per_second,
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        }
    }

    /// The time one request "costs", in whole microseconds (rounded up, so never more lenient
    /// than the rate): the unit of the Redis script, which works on the server's microsecond
    /// clock.
    pub fn interval_micros(self) -> u64 {
        1_000_000u64.div_ceil(u64::from(self.per_second.get()))
    }

    /// The time one request "costs".
    pub fn interval(self) -> Duration {
        Duration::from_micros(self.interval_micros())
    }

    /// How long an exhausted budget takes to refill completely, in whole seconds (rounded up):
    /// the window `w` of the `RateLimit-Policy` header, whose quota is the burst.
    pub fn window_seconds(self) -> u64 {
        u64::from(self.burst.get()).div_ceil(u64::from(self.per_second.get()))
    }
}

/// One request's answer, with what the `RateLimit` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go on.
    pub allowed: bool,
    /// Requests the key may still make right now, after this one.
    pub remaining: u32,
    /// How long until a refused request would be admitted; zero when allowed.
    pub retry_after: Duration,
    /// How long until the key's whole burst is available again.
    pub reset: Duration,
}

impl Decision {
    /// `Retry-After` in whole seconds: rounded up and at least 1, so a client that waits that
    /// long is admitted (an HTTP date or `0` would invite an immediate retry).
    pub fn retry_after_seconds(&self) -> u64 {
        ceil_seconds(self.retry_after).max(1)
    }

    /// The `t` of the `RateLimit` header: seconds until the burst is whole again, rounded up.
    pub fn reset_seconds(&self) -> u64 {
        ceil_seconds(self.reset)
    }
}

fn ceil_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(per_second: u32, burst: u32) -> Limit {
        Limit::new(per_second, burst).expect("non-zero")
    }

    #[test]
    fn a_key_rate_keeps_the_tier_burst_window() {
        let shared = limit(100, 200);
        let key = shared.at_rate(NonZeroU32::new(5).expect("non-zero"));
        assert_eq!((key.per_second().get(), key.burst().get()), (5, 10));
        let odd = limit(3, 7).at_rate(NonZeroU32::new(2).expect("non-zero"));
        assert_eq!(odd.burst().get(), 5, "2 * 7 / 3 = 4.67, rounded up");
        let tiny = limit(1000, 1).at_rate(NonZeroU32::new(1).expect("non-zero"));
        assert_eq!(tiny.burst().get(), 1, "never below one request");
    }

    #[test]
    fn intervals_round_towards_strictness() {
        assert_eq!(limit(3, 3).interval_micros(), 333_334);
        assert_eq!(limit(2_000, 1).interval_micros(), 500);
        assert_eq!(limit(5_000_000, 1).interval_micros(), 1);
    }

    #[test]
    fn the_window_is_the_refill_time_rounded_up() {
        assert_eq!(limit(100, 200).window_seconds(), 2);
        assert_eq!(limit(1_000, 2_000).window_seconds(), 2);
        assert_eq!(limit(3, 7).window_seconds(), 3);
        assert_eq!(limit(10, 1).window_seconds(), 1);
    }

    #[test]
    fn retry_after_is_whole_seconds_and_never_zero() {
        let refused = |retry_after| Decision {
            allowed: false,
            remaining: 0,
            retry_after,
            reset: Duration::ZERO,
        };
        assert_eq!(refused(Duration::from_millis(1)).retry_after_seconds(), 1);
        assert_eq!(refused(Duration::ZERO).retry_after_seconds(), 1);
        assert_eq!(
            refused(Duration::from_millis(2_001)).retry_after_seconds(),
            3
        );
    }
}
