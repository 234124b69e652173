//! The backend pools end to end: each tier's calls reach only its own pool, premium spills over
//! to shared (when allowed) and shared never to premium, calls are spread over a pool's
//! endpoints, dead endpoints are retried around, and host names are resolved.

use bourse_runtime::tier::Tier;
use reqwest::StatusCode;

use crate::support::{Call, Platform, Service, Setup};

const SYMBOLS: [&str; 6] = ["AAPL", "BAC", "XOM", "JPM", "CVX", "KO"];

/// GETs one instrument per symbol with `key` through `base` (a gateway's URL), one after the
/// other, and returns the statuses.
async fn get_instruments(
    platform: &Platform,
    base: &str,
    key: &str,
    rounds: usize,
) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for symbol in SYMBOLS.iter().cycle().take(rounds) {
        let response = platform
            .http
            .get(format!("{base}/v1/instruments/{symbol}"))
            .bearer_auth(key)
            .send()
            .await
            .expect("a response");
        statuses.push(response.status());
    }
    statuses
}

fn main_gateway(platform: &Platform) -> String {
    platform.gateway.url("")
}

fn instrument_calls(platform: &Platform, tier: Tier) -> Vec<Call> {
    platform
        .calls(Service::MarketData, tier)
        .into_iter()
        .filter(|call| call.method == "GetInstrument")
        .collect()
}

fn all_ok(statuses: &[StatusCode]) -> bool {
    statuses.iter().all(|status| *status == StatusCode::OK)
}

#[tokio::test]
async fn each_tier_reaches_only_its_own_pool() {
    let platform = Platform::start().await;
    platform.clear_calls();
    let base = main_gateway(&platform);

    let premium = get_instruments(&platform, &base, &platform.premium_key, 6).await;
    assert!(all_ok(&premium), "{premium:?}");
    assert!(instrument_calls(&platform, Tier::Shared).is_empty());
    let calls = instrument_calls(&platform, Tier::Premium);
    assert_eq!(calls.len(), 6);
    assert!(calls.iter().all(|call| call.tier == Some(Tier::Premium)));

    platform.clear_calls();
    let shared = get_instruments(&platform, &base, &platform.shared_key, 6).await;
    assert!(all_ok(&shared), "{shared:?}");
    assert!(instrument_calls(&platform, Tier::Premium).is_empty());
    let calls = instrument_calls(&platform, Tier::Shared);
    assert_eq!(calls.len(), 6);
    assert!(calls.iter().all(|call| call.tier == Some(Tier::Shared)));
    platform.stop().await;
}

#[tokio::test]
async fn every_endpoint_of_a_pool_gets_calls() {
    let setup = Setup {
        per_pool: 2,
        ..Setup::default()
    };
    let platform = Platform::start_with(setup, |_| {}).await;
    platform.clear_calls();
    let statuses = get_instruments(
        &platform,
        &main_gateway(&platform),
        &platform.shared_key,
        40,
    )
    .await;
    assert!(all_ok(&statuses), "{statuses:?}");
    // Idle endpoints tie, so each call picks one at random: 40 calls all on one endpoint has
    // odds of 2^-39.
    for instance in platform.pool(Service::MarketData, Tier::Shared) {
        assert!(
            !instance.recorder.calls_of("GetInstrument").is_empty(),
            "{}",
            instance.addr
        );
    }
    platform.stop().await;
}

#[tokio::test]
async fn premium_spills_over_to_shared_when_the_premium_pool_is_down() {
    // Ejected at the first failure, so the first request already finds the pool down.
    let mut platform =
        Platform::start_with(Setup::default(), |args| args.balancing.pool_eject_after = 1).await;
    platform.stop_pool(Service::MarketData, Tier::Premium).await;
    platform.clear_calls();

    let statuses = get_instruments(
        &platform,
        &main_gateway(&platform),
        &platform.premium_key,
        6,
    )
    .await;
    assert!(all_ok(&statuses), "{statuses:?}");
    let spilled = instrument_calls(&platform, Tier::Shared);
    assert_eq!(spilled.len(), 6);
    assert!(
        spilled.iter().all(|call| call.tier == Some(Tier::Premium)),
        "still premium calls"
    );
    platform.stop().await;
}

#[tokio::test]
async fn shared_never_spills_over_to_premium() {
    let mut platform =
        Platform::start_with(Setup::default(), |args| args.balancing.pool_eject_after = 1).await;
    platform.stop_pool(Service::MarketData, Tier::Shared).await;
    platform.clear_calls();
    let base = main_gateway(&platform);

    let shared = get_instruments(&platform, &base, &platform.shared_key, 4).await;
    assert!(
        shared.iter().all(|s| *s == StatusCode::SERVICE_UNAVAILABLE),
        "{shared:?}"
    );
    let premium = get_instruments(&platform, &base, &platform.premium_key, 4).await;
    assert!(all_ok(&premium), "{premium:?}");
    let calls = instrument_calls(&platform, Tier::Premium);
    assert_eq!(
        calls.len(),
        4,
        "only the premium requests reached the premium pool"
    );
    assert!(calls.iter().all(|call| call.tier == Some(Tier::Premium)));
    platform.stop().await;
}

#[tokio::test]
async fn without_spill_over_a_down_premium_pool_answers_503() {
    let mut platform = Platform::start_with(Setup::default(), |args| {
        args.balancing.pool_eject_after = 1;
        args.balancing.premium_spillover = false;
    })
    .await;
    platform.stop_pool(Service::MarketData, Tier::Premium).await;
    platform.clear_calls();
    let base = main_gateway(&platform);

    let premium = get_instruments(&platform, &base, &platform.premium_key, 4).await;
    assert!(
        premium
            .iter()
            .all(|s| *s == StatusCode::SERVICE_UNAVAILABLE),
        "{premium:?}"
    );
    assert!(
        instrument_calls(&platform, Tier::Shared).is_empty(),
        "no spill-over"
    );
    let shared = get_instruments(&platform, &base, &platform.shared_key, 2).await;
    assert!(all_ok(&shared), "{shared:?}");
    platform.stop().await;
}

#[tokio::test]
async fn a_dead_endpoint_is_retried_around_and_ejected() {
    let platform = Platform::start().await;
    let mut args = platform.gateway_args();
    let live = args.market_data.market_data_shared.clone();
    args.market_data.market_data_shared = vec![platform.closed_endpoint.clone(), live[0].clone()];
    let mut gateway = platform.start_gateway(&args).await;
    platform.clear_calls();

    let statuses = get_instruments(&platform, &gateway.url(""), &platform.shared_key, 24).await;
    assert!(all_ok(&statuses), "{statuses:?}");
    assert_eq!(instrument_calls(&platform, Tier::Shared).len(), 24);
    gateway.stop().await;
    platform.stop().await;
}

#[tokio::test]
async fn an_endpoint_given_by_host_name_is_resolved_and_served() {
    let platform = Platform::start().await;
    let mut args = platform.gateway_args();
    let port = platform.pool(Service::MarketData, Tier::Shared)[0]
        .addr
        .port();
    args.market_data.market_data_shared = vec![format!("http://localhost:{port}")];
    let mut gateway = platform.start_gateway(&args).await;
    platform.clear_calls();

    // `localhost` may also resolve to [::1], where nothing listens: retries cover it.
    let statuses = get_instruments(&platform, &gateway.url(""), &platform.shared_key, 12).await;
    assert!(all_ok(&statuses), "{statuses:?}");
    assert_eq!(instrument_calls(&platform, Tier::Shared).len(), 12);
    gateway.stop().await;
    platform.stop().await;
}
