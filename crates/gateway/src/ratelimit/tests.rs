use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use bourse_test_support::{redis_url, unique_prefix};

use super::*;
use crate::problem::PROBLEM_JSON;

fn caller(key_id: &str, tier: Tier, rate_limit_per_second: Option<i32>) -> Caller {
    Caller {
        key_id: key_id.to_owned(),
        account: "acme".to_owned(),
        tier,
        rate_limit_per_second,
    }
}

fn args(shared: (u32, u32)) -> RateLimitArgs {
    RateLimitArgs {
        shared_rate_limit: shared.0,
        shared_burst: shared.1,
        rate_limit_redis_timeout: Duration::from_secs(1),
        ..RateLimitArgs::default()
    }
}

/// How many of `attempts` quick requests are admitted.
async fn admitted(limiter: &RateLimiter, caller: &Caller, attempts: usize) -> usize {
    let mut admitted = 0;
    for _ in 0..attempts {
        let verdict = limiter.check(caller).await.expect("limits are on");
        admitted += usize::from(verdict.decision.allowed);
    }
    admitted
}

#[test]
fn tiers_have_their_defaults_and_keys_override_the_rate() {
    let limiter = RateLimiter::new(&RateLimitArgs::default(), None).expect("valid");
    let limit = |caller: &Caller| {
        let limit = limiter.limit_for(caller).expect("limits are on");
        (limit.per_second().get(), limit.burst().get())
    };
    assert_eq!(limit(&caller("a", Tier::Shared, None)), (100, 200));
    assert_eq!(limit(&caller("a", Tier::Premium, None)), (1_000, 2_000));
    assert_eq!(limit(&caller("a", Tier::Shared, Some(5))), (5, 10));
    assert_eq!(
        limit(&caller("a", Tier::Premium, Some(2_000))),
        (2_000, 4_000)
    );
    assert_eq!(
        limit(&caller("a", Tier::Shared, Some(0))),
        (100, 200),
        "a non-positive stored limit falls back to the tier's"
    );
}

#[tokio::test]
async fn without_redis_the_local_limiter_enforces_the_burst() {
    let limiter = RateLimiter::new(&args((1, 3)), None).expect("valid");
    let key = caller("k", Tier::Shared, None);
    assert_eq!(admitted(&limiter, &key, 5).await, 3);
    let refused = limiter.check(&key).await.expect("limits are on");
    assert!(!refused.decision.allowed);
    assert_eq!(refused.decision.retry_after_seconds(), 1);
    let response = too_many_requests(&refused);
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_JSON);
}

#[tokio::test]
async fn limits_can_be_switched_off() {
    let args = RateLimitArgs {
        no_rate_limits: true,
        ..args((1, 1))
    };
    let limiter = RateLimiter::new(&args, Some("redis://127.0.0.1:1")).expect("valid");
    let key = caller("k", Tier::Shared, Some(1));
    assert!(limiter.check(&key).await.is_none());
    assert!(limiter.check(&key).await.is_none());
}

#[test]
fn a_malformed_redis_url_is_refused_and_zero_limits_too() {
    assert!(matches!(
        RateLimiter::new(&RateLimitArgs::default(), Some("http://not-redis")),
        Err(RateLimitError::InvalidRedisUrl(_))
    ));
    assert!(matches!(
        RateLimiter::new(&args((0, 10)), None),
        Err(RateLimitError::ZeroLimit)
    ));
}

#[tokio::test]
async fn an_unreachable_redis_falls_back_to_the_local_limit() {
    let limiter = RateLimiter::new(&args((1, 3)), Some("redis://127.0.0.1:1")).expect("valid");
    let key = caller("k", Tier::Shared, None);
    assert_eq!(admitted(&limiter, &key, 6).await, 3);
}

#[tokio::test]
async fn replicas_on_one_redis_share_a_key_budget() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("ratelimit_replicas");
    let replica = || RateLimiter::with_key_prefix(&args((1, 10)), Some(&url), &prefix);
    let (first, second) = (replica().expect("valid"), replica().expect("valid"));
    let key = caller("k", Tier::Shared, None);
    let mut admitted = 0;
    for round in 0..20 {
        let limiter = if round % 2 == 0 { &first } else { &second };
        let verdict = limiter.check(&key).await.expect("limits are on");
        admitted += usize::from(verdict.decision.allowed);
    }
    assert_eq!(admitted, 10, "one burst of 10 between both replicas");
    let other = caller("other", Tier::Shared, None);
    assert!(second.check(&other).await.expect("on").decision.allowed);
}

#[test]
fn the_defaults_are_the_command_line_defaults() {
    use clap::{CommandFactory, Parser};

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        rate_limit: RateLimitArgs,
    }
    Cli::command().debug_assert();
    let parsed = Cli::try_parse_from(["gateway"]).expect("defaults parse");
    let default = RateLimitArgs::default();
    assert_eq!(
        format!("{:?}", parsed.rate_limit),
        format!("{default:?}"),
        "impl Default must match the clap defaults"
    );
    let set = Cli::try_parse_from([
        "gateway",
        "--shared-rate-limit",
        "7",
        "--rate-limit-redis-timeout",
        "20ms",
    ])
    .expect("flags parse");
    assert_eq!(set.rate_limit.shared_rate_limit, 7);
    assert_eq!(
        set.rate_limit.rate_limit_redis_timeout,
        Duration::from_millis(20)
    );
    assert!(Cli::try_parse_from(["gateway", "--premium-burst", "0"]).is_err());
}
