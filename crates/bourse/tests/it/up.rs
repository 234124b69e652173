//! `bourse up`'s composition: every service behind the gateway, on the test's own database.

use std::net::SocketAddr;

use bourse::up::{Platform, UpConfig};
use bourse_cache::CacheArgs;
use bourse_gateway::GatewayArgs;
use bourse_runtime::config::ServiceArgs;
use bourse_runtime::telemetry::TelemetryArgs;
use bourse_test_support::{TestDb, postgres_db, sqlite_db};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) fn config(test_db: &TestDb) -> UpConfig {
    let service = ServiceArgs {
        listen: None,
        database_url: test_db.config.database_url.clone(),
        redis_url: None,
        data_dir: test_db.config.data_dir.clone(),
        db_max_connections: 8,
        migrate: true,
        telemetry: TelemetryArgs::default(),
    };
    UpConfig {
        gateway_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        grpc_base_port: 0,
        load_demo: true,
        feed: None,
        service,
        cache: CacheArgs::default(),
        gateway: GatewayArgs::default(),
    }
}

/// The last AAPL close in the vendored demo data (2022-12-28).
const AAPL_LAST_CLOSE: f64 = 125.674;

async fn reaches_every_service_through_the_gateway(test_db: TestDb) {
    let platform = Platform::start(config(&test_db))
        .await
        .expect("platform starts");
    let demo = platform
        .demo
        .expect("demo data loaded into the empty store");
    assert_eq!(demo.instruments, 50);
    let base = format!("http://{}", platform.gateway_addr);
    let http = reqwest::Client::new();
    let get = |path: &str, key: &str| http.get(format!("{base}{path}")).bearer_auth(key).send();

    let ready = http
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), StatusCode::OK, "{:?}", ready.text().await);

    // Market data, on the premium key; a spoofed tier header changes nothing.
    let response = get("/v1/quotes/AAPL", &platform.keys.premium)
        .await
        .expect("quote");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-bourse-tier"], "premium");
    assert!(
        response.headers()["server-timing"]
            .to_str()
            .is_ok_and(|v| v.contains("backend;dur="))
    );
    let quote: Value = response.json().await.expect("json");
    assert_eq!(quote["symbol"], "AAPL");
    assert_eq!(quote["last"], json!(AAPL_LAST_CLOSE));

    let spoofed = http
        .get(format!("{base}/v1/quotes/AAPL"))
        .bearer_auth(&platform.keys.shared)
        .header("x-user-tier", "premium")
        .send()
        .await
        .expect("quote");
    assert_eq!(spoofed.headers()["x-bourse-tier"], "shared");

    // Portfolio, on the shared key through X-API-Key.
    let response = http
        .get(format!("{base}/v1/portfolios"))
        .header("x-api-key", &platform.keys.shared)
        .send()
        .await
        .expect("list");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["next_page_token"], "", "{body}");

    // Risk, which asks portfolio whether the portfolio exists: the NOT_FOUND comes back from
    // the portfolio service through risk and the gateway.
    let response = http
        .get(format!("{base}/v1/portfolios/no-such/risk/reports"))
        .header("x-api-key", &platform.keys.shared)
        .send()
        .await
        .expect("list");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let problem: Value = response.json().await.expect("json");
    assert_eq!(problem["code"], "NOT_FOUND", "{problem}");
    assert_eq!(
        problem["detail"], "portfolio no-such not found",
        "{problem}"
    );

    // Sentiment.
    let score: Value = http
        .post(format!("{base}/v1/sentiment:score"))
        .bearer_auth(&platform.keys.shared)
        .json(&json!({"text": "Profit jumps as the company beats estimates and raises guidance"}))
        .send()
        .await
        .expect("score")
        .json()
        .await
        .expect("json");
    assert_eq!(score["label"], "SENTIMENT_LABEL_POSITIVE", "{score}");

    // Errors are problem+json.
    let unauthenticated = http
        .get(format!("{base}/v1/quotes/AAPL"))
        .send()
        .await
        .expect("response");
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        unauthenticated.headers()["content-type"],
        "application/problem+json"
    );
    let revoked_or_unknown = get("/v1/quotes/AAPL", "bk_0000").await.expect("response");
    assert_eq!(revoked_or_unknown.status(), StatusCode::UNAUTHORIZED);
    let missing: Value = get("/v1/quotes/NOPE", &platform.keys.shared)
        .await
        .expect("response")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (missing["status"].clone(), missing["code"].clone()),
        (json!(404), json!("NOT_FOUND"))
    );

    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("bourse_http_requests_total"), "{metrics}");

    platform.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn up_on_sqlite_reaches_every_service() {
    reaches_every_service_through_the_gateway(sqlite_db().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn up_on_postgres_reaches_every_service() {
    if let Some(test_db) = postgres_db().await {
        reaches_every_service_through_the_gateway(test_db).await;
    }
}

/// `bourse up --feed`: the in-process feed reaches the streams of both market-data instances
/// through their shared bus, and writes through to what GetQuote reads.
#[tokio::test(flavor = "multi_thread")]
async fn up_with_the_feed_streams_to_every_market_data_instance() {
    use std::time::Duration;

    use bourse::serve::ServiceKind;
    use bourse_market_data::feed::SimulationConfig;
    use bourse_proto::market_data::v1::market_data_service_client::MarketDataServiceClient;
    use bourse_proto::market_data::v1::{GetQuoteRequest, StreamQuotesRequest};

    let test_db = sqlite_db().await;
    let platform = Platform::start(UpConfig {
        feed: Some(SimulationConfig {
            tick_interval: Duration::from_millis(20),
            ..SimulationConfig::default()
        }),
        ..config(&test_db)
    })
    .await
    .expect("platform starts");
    let mut latest = Vec::new();
    for instance in platform
        .instances
        .iter()
        .filter(|i| i.service == ServiceKind::MarketData)
    {
        let mut client = MarketDataServiceClient::connect(format!("http://{}", instance.addr))
            .await
            .expect("connect");
        let mut stream = client
            .stream_quotes(StreamQuotesRequest {
                symbols: vec!["AAPL".into()],
            })
            .await
            .expect("stream")
            .into_inner();
        let patience = Duration::from_secs(10);
        let snapshot = tokio::time::timeout(patience, stream.message())
            .await
            .expect("in time");
        assert!(
            snapshot.expect("ok").is_some(),
            "opens with the current quote"
        );
        let update = tokio::time::timeout(patience, stream.message())
            .await
            .expect("in time")
            .expect("ok");
        let quote = update.and_then(|u| u.quote).expect("a simulated update");
        assert_eq!(quote.symbol, "AAPL");
        assert_eq!(
            quote.prev_close,
            Some(AAPL_LAST_CLOSE),
            "the walk starts from the store"
        );
        let stored = client
            .get_quote(GetQuoteRequest {
                symbol: "AAPL".into(),
            })
            .await
            .expect("quote")
            .into_inner();
        assert!(
            stored.ts.map(|t| (t.seconds, t.nanos)) >= quote.ts.map(|t| (t.seconds, t.nanos)),
            "GetQuote is at least as new as the stream"
        );
        latest.push(quote);
    }
    assert_eq!(latest.len(), 2, "a shared and a premium instance");
    platform.stop().await.expect("clean stop");
}

/// `bourse up` gives each portfolio instance market-data clients: GetValuation, over gRPC on
/// both tiers' instances, marks a position to the demo quote with one BatchGetQuotes call.
#[tokio::test(flavor = "multi_thread")]
async fn up_values_portfolios_through_market_data_on_both_tiers() {
    use bourse::serve::ServiceKind;
    use bourse_proto::portfolio::v1::portfolio_service_client::PortfolioServiceClient;
    use bourse_proto::portfolio::v1::{
        CreatePortfolioRequest, GetValuationRequest, Order, OrderSide, OrderStatus, OrderType,
        PlaceOrderRequest, Portfolio,
    };
    use bourse_runtime::caller::with_account;
    use bourse_runtime::grpc_client::with_tier;
    use bourse_runtime::tier::Tier;

    let test_db = sqlite_db().await;
    let platform = Platform::start(config(&test_db))
        .await
        .expect("platform starts");
    for instance in platform
        .instances
        .iter()
        .filter(|i| i.service == ServiceKind::Portfolio)
    {
        let mut client = PortfolioServiceClient::connect(format!("http://{}", instance.addr))
            .await
            .expect("connect");
        fn as_demo<T>(message: T, tier: Tier) -> tonic::Request<T> {
            let mut request = tonic::Request::new(message);
            with_account(&mut request, "demo").expect("account");
            with_tier(&mut request, tier);
            request
        }
        let tier = instance.tier;
        let portfolio = client
            .create_portfolio(as_demo(
                CreatePortfolioRequest {
                    portfolio: Some(Portfolio {
                        name: format!("{} book", instance.tier),
                        cash: "1000.00".into(),
                        ..Portfolio::default()
                    }),
                },
                tier,
            ))
            .await
            .expect("create")
            .into_inner();
        let order = client
            .place_order(as_demo(
                PlaceOrderRequest {
                    portfolio_id: portfolio.id.clone(),
                    order: Some(Order {
                        symbol: "AAPL".into(),
                        side: OrderSide::Buy.into(),
                        quantity: "2".into(),
                        r#type: OrderType::Market.into(),
                        ..Order::default()
                    }),
                    idempotency_key: String::new(),
                },
                tier,
            ))
            .await
            .expect("place")
            .into_inner();
        assert_eq!(order.status(), OrderStatus::Filled, "{order:?}");
        let valuation = client
            .get_valuation(as_demo(
                GetValuationRequest {
                    portfolio_id: portfolio.id.clone(),
                },
                tier,
            ))
            .await
            .expect("valuation")
            .into_inner();
        let position = &valuation.positions[0];
        assert_eq!(position.symbol, "AAPL");
        assert_eq!(position.price, AAPL_LAST_CLOSE.to_string());
        // 2 × 125.674 = 251.348, to the cent.
        assert_eq!(position.market_value, "251.35");
        assert_eq!(valuation.market_value, "251.35");
    }
    platform.stop().await.expect("clean stop");
}
