//! Limit orders against a real, in-process market-data server: the watcher follows its quote
//! stream and fills a resting order when the quote crosses the limit; GetValuation asks the
//! same server through `MarketDataClient` (BatchGetQuotes, in the request's tier pool).

use std::sync::Arc;
use std::time::Duration;

use bourse_cache::{Cache, CacheConfig};
use bourse_market_data::QuoteBus;
use bourse_portfolio::decimal::Price;
use bourse_portfolio::limit::{DAY_EXPIRY_REASON, RestingOrder, crossing_price, expire_day_orders};
use bourse_portfolio::order::OrderSide as Side;
use bourse_portfolio::{LimitWatcher, MarketDataClient, PortfolioBook, WatcherConfig};
use bourse_proto::market_data::v1::Quote;
use bourse_proto::portfolio::v1::portfolio_service_client::PortfolioServiceClient;
use bourse_proto::portfolio::v1::{
    GetOrderRequest, Order, OrderSide, OrderStatus, OrderType, PlaceOrderRequest, TimeInForce,
};
use bourse_runtime::grpc_client::ClientConfig;
use bourse_runtime::grpc_server::{GrpcServerConfig, ServeError};
use bourse_runtime::upstream::MarketDataPools;
use bourse_store::Db;
use bourse_test_support::grpc::{Served, serve_on_loopback};
use bourse_test_support::store_test;
use tonic::transport::Channel;

use crate::as_account;

fn quote(symbol: &str, last: f64, bid: f64, ask: f64) -> Quote {
    Quote {
        symbol: symbol.into(),
        last,
        bid: Some(bid),
        ask: Some(ask),
        ..Quote::default()
    }
}

#[test]
fn crossing_follows_the_touch_then_the_last_price() {
    let order = |side, limit: &str| RestingOrder {
        id: "o".into(),
        portfolio_id: "p".into(),
        symbol: "AAPL".into(),
        side,
        limit: Price::parse(limit).expect("price"),
    };
    let buy = order(Side::Buy, "100");
    let sell = order(Side::Sell, "100");
    let price = |p: Option<Price>| p.map(Price::canonical);
    assert_eq!(
        price(crossing_price(&buy, &quote("AAPL", 98.0, 99.0, 100.5))),
        None
    );
    assert_eq!(
        price(crossing_price(&buy, &quote("AAPL", 101.0, 99.0, 99.5))).as_deref(),
        Some("99.5")
    );
    assert_eq!(
        price(crossing_price(&sell, &quote("AAPL", 99.0, 100.25, 101.0))).as_deref(),
        Some("100.25")
    );
    assert_eq!(
        price(crossing_price(&sell, &quote("AAPL", 101.0, 99.75, 102.0))),
        None
    );
    let last_only = Quote {
        symbol: "AAPL".into(),
        last: 100.0,
        ..Quote::default()
    };
    assert_eq!(
        price(crossing_price(&buy, &last_only)).as_deref(),
        Some("100")
    );
    assert_eq!(
        price(crossing_price(&sell, &last_only)).as_deref(),
        Some("100")
    );
}

/// A market-data server and a portfolio server (with its limit-order watcher) on one store.
struct Platform {
    _market_data: Served<ServeError>,
    _portfolio: Served<ServeError>,
    bus: QuoteBus,
    client: PortfolioServiceClient<Channel>,
    stop_watcher: tokio::sync::watch::Sender<bool>,
}

impl Platform {
    async fn start(db: &Db) -> Self {
        let bus = QuoteBus::new(64);
        let (md_db, md_bus) = (db.clone(), bus.clone());
        let market_data = serve_on_loopback(move |listener, shutdown| {
            let cache = Cache::in_process(CacheConfig::default());
            bourse_market_data::serve(
                listener,
                md_db,
                cache,
                md_bus,
                GrpcServerConfig::default(),
                shutdown,
            )
        })
        .await;
        let endpoint = format!("http://{}", market_data.addr);
        let pools = MarketDataPools {
            market_data_shared: vec![endpoint.clone()],
            market_data_premium: vec![endpoint],
        };
        let quotes = MarketDataClient::new(&pools, &ClientConfig::default()).expect("client");
        let watcher = LimitWatcher::new(
            db.clone(),
            Arc::new(quotes.clone()),
            None,
            WatcherConfig {
                refresh: Duration::from_millis(50),
            },
        );
        let (stop_watcher, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(watcher.clone().run(stopped));
        let book = PortfolioBook::new(db.clone(), Arc::new(quotes)).with_watcher(watcher);
        let pf_db = db.clone();
        let portfolio = serve_on_loopback(move |listener, shutdown| {
            bourse_portfolio::serve_book(
                listener,
                pf_db,
                book,
                GrpcServerConfig::default(),
                shutdown,
            )
        })
        .await;
        let client = PortfolioServiceClient::new(portfolio.channel.clone());
        Self {
            _market_data: market_data,
            _portfolio: portfolio,
            bus,
            client,
            stop_watcher,
        }
    }

    async fn limit(
        &mut self,
        portfolio_id: &str,
        side: OrderSide,
        limit: &str,
        tif: TimeInForce,
    ) -> Order {
        let order = Order {
            symbol: "AAPL".into(),
            side: side.into(),
            quantity: "2".into(),
            r#type: OrderType::Limit.into(),
            limit_price: limit.into(),
            time_in_force: tif.into(),
            ..Order::default()
        };
        let request = PlaceOrderRequest {
            portfolio_id: portfolio_id.into(),
            order: Some(order),
            idempotency_key: String::new(),
        };
        self.client
            .place_order(as_account("alice", request))
            .await
            .expect("place limit order")
            .into_inner()
    }

    async fn order(&mut self, portfolio_id: &str, order_id: &str) -> Order {
        let request = GetOrderRequest {
            portfolio_id: portfolio_id.into(),
            order_id: order_id.into(),
        };
        self.client
            .get_order(as_account("alice", request))
            .await
            .expect("get order")
            .into_inner()
    }

    /// Publishes `quote` until the order leaves ACCEPTED (the watcher may subscribe after the
    /// first publication); at most five seconds.
    async fn publish_until_filled(
        &mut self,
        portfolio_id: &str,
        order_id: &str,
        quote: Quote,
    ) -> Order {
        let waited = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                self.bus.publish(quote.clone());
                let order = self.order(portfolio_id, order_id).await;
                if order.status() != OrderStatus::Accepted {
                    return order;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        waited.expect("the order left ACCEPTED within five seconds")
    }
}

store_test!(
    a_limit_order_fills_when_the_stream_crosses_its_price,
    |db| {
        let mut platform = Platform::start(db).await;
        let id = crate::seed_portfolio(db, "alice", 1).await;
        let buy = platform
            .limit(&id, OrderSide::Buy, "100", TimeInForce::Gtc)
            .await;
        assert_eq!(buy.status(), OrderStatus::Accepted);

        // Not crossing: ask 100.5 above the limit. The order must still be resting afterwards.
        for _ in 0..5 {
            platform.bus.publish(quote("AAPL", 100.2, 100.0, 100.5));
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        assert_eq!(
            platform.order(&id, &buy.id).await.status(),
            OrderStatus::Accepted
        );

        // Crossing: ask 99.5 at or below 100 fills at 99.5; cash 1000.00 - 199.00 = 801.00.
        let filled = platform
            .publish_until_filled(&id, &buy.id, quote("AAPL", 99.6, 99.4, 99.5))
            .await;
        assert_eq!(filled.status(), OrderStatus::Filled);
        assert_eq!(filled.average_fill_price, "99.5");
        assert_eq!(filled.fills.len(), 1);
        let portfolio = bourse_portfolio::store::get_portfolio(db, "alice", &id)
            .await
            .expect("portfolio");
        assert_eq!(portfolio.cash, "801.00");

        // A sell limit at 105 fills on the bid, not the last.
        let sell = platform
            .limit(&id, OrderSide::Sell, "105", TimeInForce::Gtc)
            .await;
        let sold = platform
            .publish_until_filled(&id, &sell.id, quote("AAPL", 104.0, 105.25, 105.5))
            .await;
        assert_eq!(
            (sold.status(), sold.average_fill_price.as_str()),
            (OrderStatus::Filled, "105.25")
        );
        let _ = platform.stop_watcher.send(true);
    }
);

store_test!(day_orders_expire_at_the_end_of_the_utc_day, |db| {
    let mut platform = Platform::start(db).await;
    let _ = platform.stop_watcher.send(true);
    let id = crate::seed_portfolio(db, "alice", 1).await;
    let day = platform
        .limit(&id, OrderSide::Buy, "10", TimeInForce::Day)
        .await;
    let gtc = platform
        .limit(&id, OrderSide::Buy, "10", TimeInForce::Gtc)
        .await;
    let created = bourse_proto::time::from_timestamp(day.create_time.as_ref().expect("time"))
        .expect("valid")
        .naive_utc();

    // Later the same day: nothing expires.
    let same_day = created.date().and_hms_opt(23, 59, 59).expect("time");
    assert!(
        expire_day_orders(db, same_day)
            .await
            .expect("expire")
            .is_empty()
    );
    // The next UTC day: the DAY order is canceled with a reason, the GTC order rests on.
    let next_day = same_day + chrono::Duration::seconds(1);
    assert_eq!(
        expire_day_orders(db, next_day).await.expect("expire"),
        std::slice::from_ref(&id)
    );
    let expired = platform.order(&id, &day.id).await;
    assert_eq!(expired.status(), OrderStatus::Canceled);
    assert_eq!(expired.reject_reason, DAY_EXPIRY_REASON);
    assert_eq!(
        platform.order(&id, &gtc.id).await.status(),
        OrderStatus::Accepted
    );
});
