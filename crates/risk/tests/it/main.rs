//! Integration tests of the risk service over real gRPC on both storage backends, with real
//! market-data (holding the vendored demo history) and portfolio services beside it.

mod analyze;
mod batch;
mod reports;

use bourse_cache::{Cache, CacheConfig};
use bourse_market_data::QuoteBus;
use bourse_portfolio::MarketDataClient;
use bourse_proto::portfolio::v1::portfolio_service_client::PortfolioServiceClient;
use bourse_proto::portfolio::v1::{
    CreatePortfolioRequest, Order, OrderSide, OrderType, PlaceOrderRequest, Portfolio,
};
use bourse_proto::risk::v1::risk_service_client::RiskServiceClient;
use bourse_risk::Upstreams;
use bourse_runtime::caller::with_account;
use bourse_runtime::grpc_client::ClientConfig;
use bourse_runtime::grpc_server::{GrpcServerConfig, ServeError};
use bourse_runtime::upstream::{MarketDataPools, PortfolioPools};
use bourse_store::Db;
use bourse_test_support::grpc::{Served, serve_on_loopback};
use tonic::transport::Channel;

/// The account the tests act for.
const ACCOUNT: &str = "alice";

struct TestApp {
    market_data: Served<ServeError>,
    portfolio: Served<ServeError>,
    risk: Served<ServeError>,
    client: RiskServiceClient<Channel>,
    portfolios: PortfolioServiceClient<Channel>,
}

impl TestApp {
    /// Loads the demo history into `db` and serves market data, portfolio and risk on it.
    async fn spawn(db: &Db) -> Self {
        bourse_market_data::load_demo(db)
            .await
            .expect("demo data loads")
            .expect("into an empty store");
        let cache = || Cache::in_process(CacheConfig::default());
        let market_data = {
            let db = db.clone();
            serve_on_loopback(move |listener, shutdown| {
                let config = GrpcServerConfig::default();
                bourse_market_data::serve(
                    listener,
                    db,
                    cache(),
                    QuoteBus::default(),
                    config,
                    shutdown,
                )
            })
            .await
        };
        let endpoint = |served: &Served<ServeError>| vec![format!("http://{}", served.addr)];
        let market_data_pools = MarketDataPools {
            market_data_shared: endpoint(&market_data),
            market_data_premium: endpoint(&market_data),
        };
        let portfolio = {
            let db = db.clone();
            let quotes = MarketDataClient::new(&market_data_pools, &ClientConfig::default())
                .expect("market-data client");
            serve_on_loopback(move |listener, shutdown| {
                let config = GrpcServerConfig::default();
                bourse_portfolio::serve(listener, db, cache(), quotes, config, shutdown)
            })
            .await
        };
        let portfolio_pools = PortfolioPools {
            portfolio_shared: endpoint(&portfolio),
            portfolio_premium: endpoint(&portfolio),
        };
        let upstreams = Upstreams::new(
            &market_data_pools,
            &portfolio_pools,
            &ClientConfig::default(),
        )
        .expect("risk clients");
        let risk = {
            let db = db.clone();
            serve_on_loopback(move |listener, shutdown| {
                let config = GrpcServerConfig::default();
                bourse_risk::serve(listener, db, cache(), upstreams, config, shutdown)
            })
            .await
        };
        Self {
            client: RiskServiceClient::new(risk.channel.clone()),
            portfolios: PortfolioServiceClient::new(portfolio.channel.clone()),
            market_data,
            portfolio,
            risk,
        }
    }

    /// A portfolio of [`ACCOUNT`] with `cash` and market buys of `buys` (symbol, shares).
    async fn portfolio_with(&mut self, cash: &str, buys: &[(&str, &str)]) -> Portfolio {
        let portfolio = self
            .portfolios
            .create_portfolio(as_account(CreatePortfolioRequest {
                portfolio: Some(Portfolio {
                    name: "risk test".into(),
                    base_currency: "USD".into(),
                    cash: cash.into(),
                    ..Default::default()
                }),
            }))
            .await
            .expect("create portfolio")
            .into_inner();
        for (symbol, quantity) in buys {
            self.buy(&portfolio.id, symbol, quantity).await;
        }
        portfolio
    }

    /// A filled market buy.
    async fn buy(&mut self, portfolio_id: &str, symbol: &str, quantity: &str) {
        let order = self
            .portfolios
            .place_order(as_account(PlaceOrderRequest {
                portfolio_id: portfolio_id.into(),
                order: Some(Order {
                    symbol: symbol.into(),
                    side: OrderSide::Buy.into(),
                    quantity: quantity.into(),
                    r#type: OrderType::Market.into(),
                    ..Default::default()
                }),
                idempotency_key: String::new(),
            }))
            .await
            .expect("place order")
            .into_inner();
        assert!(order.fills.len() == 1, "the market order filled: {order:?}");
    }

    async fn stop(self) {
        self.risk.stop().await;
        self.portfolio.stop().await;
        self.market_data.stop().await;
    }
}

/// A request acting for [`ACCOUNT`], as the gateway sends it.
fn as_account<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    with_account(&mut request, ACCOUNT).expect("valid account");
    request
}

/// Asserts `actual` equals the numpy reference `expected` within 1e-9 relative.
#[track_caller]
fn assert_rel(actual: f64, expected: f64, what: &str) {
    let rel = ((actual - expected) / expected).abs();
    assert!(
        rel <= 1e-9,
        "{what}: got {actual:e}, numpy says {expected:e} (relative error {rel:e})"
    );
}
