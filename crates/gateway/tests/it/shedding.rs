//! Load shedding: when the gateway is saturated, shared requests are refused with 503 and
//! `Retry-After` while premium requests still get through.

use std::time::Duration;

use bourse_gateway::admission::AdmissionArgs;
use bourse_runtime::tier::Tier;
use reqwest::StatusCode;
use tokio::task::JoinSet;

use crate::support::{Platform, Service, Setup};

/// How long the market-data instances hold each call, so requests stay in flight: shared
/// calls outlast every premium step of the test.
const SHARED_HOLD: Duration = Duration::from_millis(2000);
const PREMIUM_HOLD: Duration = Duration::from_millis(400);

/// Sends `count` GETs of distinct instruments (nothing to coalesce) with `key` in the
/// background, and waits until the instances of `tier` are working on all of them.
async fn hold_in_flight(
    platform: &Platform,
    key: &str,
    tier: Tier,
    symbols: &[&str],
    held: &mut JoinSet<StatusCode>,
) {
    let before = platform.calls(Service::MarketData, tier).len();
    for symbol in symbols {
        let request = platform.get(key, &format!("/v1/instruments/{symbol}"));
        held.spawn(async move { request.send().await.expect("response").status() });
    }
    // Not a timing assertion: wait (bounded) until the calls have reached the service.
    for _ in 0..200 {
        if platform.calls(Service::MarketData, tier).len() >= before + symbols.len() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the held requests never reached the {tier} market-data pool");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_requests_are_shed_before_premium_ones() {
    let platform = Platform::start_with(Setup::default(), |args| {
        args.admission = AdmissionArgs {
            max_in_flight: 4,
            premium_reserve: 2,
            shared_concurrency: 4,
            premium_concurrency: 4,
        };
        // The held calls must not run into the per-tier deadlines.
        args.balancing.premium_deadline = Duration::from_secs(10);
        args.balancing.shared_deadline = Duration::from_secs(10);
    })
    .await;
    for (tier, hold) in [(Tier::Shared, SHARED_HOLD), (Tier::Premium, PREMIUM_HOLD)] {
        for instance in platform.pool(Service::MarketData, tier) {
            instance.recorder.set_delay(hold);
        }
    }
    let (shared, premium) = (platform.shared_key.clone(), platform.premium_key.clone());

    // Two shared requests fill everything but the premium reserve.
    let mut held = JoinSet::new();
    hold_in_flight(
        &platform,
        &shared,
        Tier::Shared,
        &["AAPL", "BAC"],
        &mut held,
    )
    .await;

    let refused = platform
        .get(&shared, "/v1/instruments/XOM")
        .send()
        .await
        .expect("response");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = refused.json().await.expect("a problem body");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("saturated")),
        "{problem}"
    );

    // Premium still gets in, while the shared requests are held.
    let admitted = platform
        .get(&premium, "/v1/instruments/JPM")
        .send()
        .await
        .expect("response");
    assert_eq!(admitted.status(), StatusCode::OK);

    // Two premium requests take the reserve; now premium is refused too.
    hold_in_flight(
        &platform,
        &premium,
        Tier::Premium,
        &["CVX", "KO"],
        &mut held,
    )
    .await;
    let full = platform
        .get(&premium, "/v1/instruments/GE")
        .send()
        .await
        .expect("response");
    assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);

    // Every held request was served, and once they are done shared is admitted again.
    while let Some(status) = held.join_next().await {
        assert_eq!(status.expect("request task"), StatusCode::OK);
    }
    let again = platform
        .get(&shared, "/v1/instruments/XOM")
        .send()
        .await
        .expect("response");
    assert_eq!(again.status(), StatusCode::OK);
    platform.stop().await;
}
