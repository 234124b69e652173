//! Rate limits end to end: a key's burst is admitted and the next request is refused with 429,
//! `Retry-After` and the RateLimit headers; two replicas on one Redis share a key's budget; with
//! Redis unreachable each replica still enforces the limit on its own.
//!
//! A burst is sent as fast as the client can; the budget refills meanwhile (one request per
//! 200 ms at 5 req/s), so each test allows for what the elapsed time could have refilled.

use std::time::{Duration, Instant};

use bourse_gateway::GatewayArgs;
use bourse_runtime::tier::Tier;
use bourse_test_support::redis_url;
use reqwest::StatusCode;

use crate::support::{Gateway, Platform, Setup};

/// The keys' own limit in these tests; the shared tier's burst window (2 s) makes it a burst of
/// [`BURST`].
const RATE: i32 = 5;
const BURST: usize = 10;
const PATH: &str = "/v1/instruments/AAPL";

/// The outcome of sending requests until one is refused.
struct Burst {
    admitted: usize,
    refusal: reqwest::Response,
    elapsed: Duration,
}

impl Burst {
    /// Requests the budget may have refilled while the burst was sent (rounded up).
    fn refilled(&self) -> usize {
        let refilled = (self.elapsed.as_millis() * u128::from(RATE.unsigned_abs())).div_ceil(1000);
        usize::try_from(refilled).unwrap_or(usize::MAX)
    }

    /// The admitted count is the burst, give or take what time refilled.
    fn assert_admitted_the_burst(&self) {
        assert!(
            (BURST..=BURST + self.refilled()).contains(&self.admitted),
            "admitted {} in {:?}: expected the burst of {BURST} plus at most {} refilled",
            self.admitted,
            self.elapsed,
            self.refilled()
        );
    }
}

/// Sends GETs with `key`, round-robin over `gateways`, until one is refused.
async fn burst(platform: &Platform, gateways: &[&Gateway], key: &str) -> Burst {
    let started = Instant::now();
    let mut admitted = 0;
    for round in 0..BURST * 4 {
        let gateway = gateways[round % gateways.len()];
        let response = platform
            .http
            .get(gateway.url(PATH))
            .bearer_auth(key)
            .send()
            .await
            .expect("response");
        match response.status() {
            StatusCode::OK => {
                assert_headers(&response, "shared", "\"shared\";r=");
                admitted += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                return Burst {
                    admitted,
                    refusal: response,
                    elapsed: started.elapsed(),
                };
            }
            status => panic!("unexpected {status}: {:?}", response.text().await),
        }
    }
    panic!("{} requests at {RATE} req/s were never refused", BURST * 4);
}

fn assert_headers(response: &reqwest::Response, tier: &str, state_prefix: &str) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        header("ratelimit-policy"),
        format!("\"{tier}\";q={BURST};w=2")
    );
    let state = header("ratelimit");
    assert!(state.starts_with(state_prefix), "RateLimit: {state}");
}

/// The refusal is a 429 problem with `Retry-After` and both RateLimit headers.
async fn assert_refused(refusal: reqwest::Response) {
    assert_eq!(refusal.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refusal.headers()["retry-after"], "1", "one 200 ms interval");
    assert_headers(&refusal, "shared", "\"shared\";r=0;t=");
    assert_eq!(
        refusal.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = refusal.json().await.expect("a problem body");
    assert_eq!(problem["status"], 429, "{problem}");
    assert_eq!(problem["code"], "RESOURCE_EXHAUSTED", "{problem}");
}

/// A generous Redis timeout: these tests are about sharing, not latency.
fn patient(args: &mut GatewayArgs) {
    args.rate_limit.rate_limit_redis_timeout = Duration::from_secs(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_over_a_keys_limit_gets_429_with_the_ratelimit_headers() {
    let platform = Platform::start().await;
    let key = platform.key(Tier::Shared, Some(RATE)).await;
    let burst = burst(&platform, &[&platform.gateway], &key).await;
    burst.assert_admitted_the_burst();
    assert_refused(burst.refusal).await;

    let other = platform
        .get(&platform.shared_key, PATH)
        .send()
        .await
        .expect("response");
    assert_eq!(other.status(), StatusCode::OK, "another key is not limited");
    assert_eq!(
        other.headers()["ratelimit-policy"],
        "\"shared\";q=200;w=2",
        "the shared tier's default"
    );
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_redis_share_a_keys_budget() {
    let Some(redis_url) = redis_url() else { return };
    let setup = Setup {
        redis_url: Some(redis_url),
        ..Setup::default()
    };
    let platform = Platform::start_with(setup, patient).await;
    let mut args = platform.gateway_args();
    patient(&mut args);
    let mut second = platform.start_gateway(&args).await;
    // Key ids are fresh UUIDs: no other test or run shares this key's Redis entry.
    let key = platform.key(Tier::Shared, Some(RATE)).await;

    let burst = burst(&platform, &[&platform.gateway, &second], &key).await;
    assert!(
        burst.admitted < 2 * BURST,
        "two separate budgets would admit {}",
        2 * BURST
    );
    burst.assert_admitted_the_burst();
    assert_refused(burst.refusal).await;
    second.stop().await;
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_unreachable_the_local_limiter_enforces_the_limit() {
    // A closed port stands in for a stopped Redis.
    let setup = Setup {
        redis_url: Some("redis://127.0.0.1:1".to_owned()),
        ..Setup::default()
    };
    let platform = Platform::start_with(setup, |_| {}).await;
    let key = platform.key(Tier::Shared, Some(RATE)).await;
    let burst = burst(&platform, &[&platform.gateway], &key).await;
    burst.assert_admitted_the_burst();
    assert_refused(burst.refusal).await;
    platform.stop().await;
}
