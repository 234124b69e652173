//! Routing between tier pools, spill-over and budgeted retries, against ports where nothing
//! listens (every attempt fails to connect).

use bourse_runtime::grpc_client::ClientConfig;
use bourse_runtime::tier::Tier;

use super::*;
use crate::pools::args::PoolArgs;

const GET_QUOTE: &str = "/bourse.market_data.v1.MarketDataService/GetQuote";
const PLACE_ORDER: &str = "/bourse.portfolio.v1.PortfolioService/PlaceOrder";

/// Addresses of closed loopback ports: connecting to them is refused at once.
fn closed_ports(count: usize) -> Vec<String> {
    let listeners: Vec<_> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    listeners
        .iter()
        .map(|l| format!("http://{}", l.local_addr().expect("address")))
        .collect()
}

fn pool(tier: Tier, endpoints: &[String], eject_after: u32) -> Arc<Pool> {
    Arc::new(
        Pool::new(
            "market-data",
            tier,
            endpoints,
            &ClientConfig::default(),
            eject_after,
        )
        .expect("valid pool"),
    )
}

fn channel(pool: &Arc<Pool>, spill: Option<&Arc<Pool>>, args: &PoolArgs) -> PoolChannel {
    PoolChannel::new(
        pool.clone(),
        spill.cloned(),
        Arc::new(MethodTable::from_contract()),
        Deadlines::new(args),
        RetryBudget::new(args),
    )
}

fn request(path: &str) -> http::Request<Body> {
    let mut request = http::Request::new(Body::empty());
    *request.uri_mut() = http::Uri::try_from(path).expect("valid path");
    request
}

fn eject_all(pool: &Pool) {
    for replica in pool.replicas() {
        pool.eject(&replica, "test");
    }
}

#[tokio::test]
async fn premium_spills_over_only_when_no_premium_endpoint_is_healthy() {
    let endpoints = closed_ports(2);
    let shared = pool(Tier::Shared, &endpoints[..1], 3);
    let premium = pool(Tier::Premium, &endpoints[1..], 3);
    let route = channel(&premium, Some(&shared), &PoolArgs::default());

    let (chosen, _) = route.0.pick(None).expect("premium is healthy");
    assert!(std::ptr::eq(chosen, &*premium));
    eject_all(&premium);
    let (chosen, _) = route.0.pick(None).expect("spills over");
    assert!(std::ptr::eq(chosen, &*shared));
    assert!(
        route.readiness().check().is_ok(),
        "ready through spill-over"
    );
    eject_all(&shared);
    let error = route.0.pick(None).expect_err("nowhere to go");
    assert_eq!(error.code(), tonic::Code::Unavailable);
    assert_eq!(
        error.message(),
        "no healthy endpoint in the market-data premium pool"
    );
    assert!(route.readiness().check().is_err());
}

#[tokio::test]
async fn without_spill_over_a_down_pool_is_unavailable() {
    let endpoints = closed_ports(2);
    let shared = pool(Tier::Shared, &endpoints[..1], 3);
    let premium = pool(Tier::Premium, &endpoints[1..], 3);
    let shared_route = channel(&shared, None, &PoolArgs::default());
    let premium_route = channel(&premium, None, &PoolArgs::default());
    eject_all(&premium);

    let mut service = premium_route.clone();
    let error = tower::Service::call(&mut service, request(GET_QUOTE))
        .await
        .expect_err("no premium endpoint");
    let status = tonic::Status::from_error(error);
    assert_eq!(status.code(), tonic::Code::Unavailable);
    assert!(premium_route.readiness().check().is_err());
    let (chosen, _) = shared_route.0.pick(None).expect("shared is healthy");
    assert!(std::ptr::eq(chosen, &*shared), "shared never uses premium");
}

/// Calls `path` once through a two-replica pool whose replicas are ejected at their first
/// failure, and returns how many replicas the call reached.
async fn replicas_reached(path: &str, args: &PoolArgs) -> usize {
    let shared = pool(Tier::Shared, &closed_ports(2), 1);
    let mut route = channel(&shared, None, args);
    let error = tower::Service::call(&mut route, request(path))
        .await
        .expect_err("nothing listens");
    assert_eq!(
        tonic::Status::from_error(error).code(),
        tonic::Code::Unavailable
    );
    shared.counts().1
}

#[tokio::test]
async fn an_idempotent_call_is_retried_once_on_the_other_replica() {
    assert_eq!(replicas_reached(GET_QUOTE, &PoolArgs::default()).await, 2);
}

#[tokio::test]
async fn a_spent_budget_allows_no_retry() {
    let args = PoolArgs {
        retry_budget_percent: 0.0,
        retry_min_per_second: 0,
        ..PoolArgs::default()
    };
    assert_eq!(replicas_reached(GET_QUOTE, &args).await, 1);
}

#[tokio::test]
async fn a_call_with_side_effects_is_never_retried() {
    assert_eq!(replicas_reached(PLACE_ORDER, &PoolArgs::default()).await, 1);
}
