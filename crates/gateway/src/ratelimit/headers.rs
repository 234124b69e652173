//! The IETF rate-limit headers (draft-ietf-httpapi-ratelimit-headers, structured-field form)
//! and `Retry-After`.
//!
//! GCRA maps onto the draft's quota/window model as: the policy's quota `q` is the burst, its
//! window `w` the seconds an exhausted burst takes to refill (burst / rate, rounded up), so `q/w`
//! is the sustained rate; `r` is what the key may still send now and `t` the seconds until the
//! whole burst is back. The policy is named after the tier:
//!
//! ```text
//! RateLimit-Policy: "shared";q=200;w=2
//! RateLimit: "shared";r=57;t=2
//! ```

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use bourse_runtime::tier::Tier;

use super::gcra::{Decision, Limit};

/// The policy a response's limit follows.
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// The key's budget after this request.
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// `RateLimit-Policy`: `"<tier>";q=<burst>;w=<refill seconds>`.
pub fn policy(tier: Tier, limit: Limit) -> String {
    format!(
        "\"{tier}\";q={};w={}",
        limit.burst(),
        limit.window_seconds()
    )
}

/// `RateLimit`: `"<tier>";r=<remaining>;t=<seconds until the burst is whole>`.
pub fn state(tier: Tier, decision: &Decision) -> String {
    format!(
        "\"{tier}\";r={};t={}",
        decision.remaining,
        decision.reset_seconds()
    )
}

/// Adds both rate-limit headers, and `Retry-After` when the request was refused.
pub fn write(headers: &mut HeaderMap, tier: Tier, limit: Limit, decision: &Decision) {
    let mut set = |name: HeaderName, value: String| {
        // Only digits, letters and `";=`: always a valid header value.
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(name, value);
        }
    };
    set(RATELIMIT_POLICY, policy(tier, limit));
    set(RATELIMIT, state(tier, decision));
    if !decision.allowed {
        set(RETRY_AFTER, decision.retry_after_seconds().to_string());
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limit(per_second: u32, burst: u32) -> Limit {
        Limit::new(per_second, burst).expect("non-zero")
    }

    #[test]
    fn the_policy_names_the_tier_burst_and_refill_window() {
        assert_eq!(
            policy(Tier::Shared, limit(100, 200)),
            r#""shared";q=200;w=2"#
        );
        assert_eq!(policy(Tier::Premium, limit(5, 10)), r#""premium";q=10;w=2"#);
        assert_eq!(policy(Tier::Shared, limit(3, 7)), r#""shared";q=7;w=3"#);
    }

    #[test]
    fn the_state_rounds_the_reset_up() {
        let decision = Decision {
            allowed: true,
            remaining: 57,
            retry_after: Duration::ZERO,
            reset: Duration::from_millis(1_430),
        };
        assert_eq!(state(Tier::Shared, &decision), r#""shared";r=57;t=2"#);
    }

    #[test]
    fn refusals_carry_retry_after_and_admissions_do_not() {
        let limit = limit(5, 10);
        let refused = Decision {
            allowed: false,
            remaining: 0,
            retry_after: Duration::from_millis(200),
            reset: Duration::from_millis(2_000),
        };
        let mut headers = HeaderMap::new();
        write(&mut headers, Tier::Premium, limit, &refused);
        assert_eq!(headers[RETRY_AFTER], "1");
        assert_eq!(headers[RATELIMIT], r#""premium";r=0;t=2"#);
        assert_eq!(headers[RATELIMIT_POLICY], r#""premium";q=10;w=2"#);

        let allowed = Decision {
            allowed: true,
            remaining: 9,
            retry_after: Duration::ZERO,
            reset: Duration::from_millis(200),
        };
        let mut headers = HeaderMap::new();
        write(&mut headers, Tier::Premium, limit, &allowed);
        assert!(headers.get(RETRY_AFTER).is_none());
        assert_eq!(headers[RATELIMIT], r#""premium";r=9;t=1"#);
    }
}
