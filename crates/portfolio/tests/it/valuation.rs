//! GetValuation (one batch quote call, figures to the cent, missing quotes) and the cached reads
//! (never stale after a write, on this instance or another).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bourse_cache::{Cache, CacheConfig, DataClass, Tier, TtlPolicy};
use bourse_portfolio::PortfolioBook;
use bourse_portfolio::quotes::{QuoteError, QuoteSource};
use bourse_proto::market_data::v1::Quote;
use bourse_proto::portfolio::v1::portfolio_service_client::PortfolioServiceClient;
use bourse_proto::portfolio::v1::{
    GetValuationRequest, ListPositionsRequest, OrderSide, PlaceOrderRequest, Valuation,
};
use bourse_runtime::grpc_server::{GrpcServerConfig, ServeError};
use bourse_store::Db;
use bourse_test_support::grpc::{Served, serve_on_loopback};
use bourse_test_support::store_test;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::as_account;
use crate::trading::market;

/// A quote source that counts its calls, so a test can prove valuation makes one batch call.
#[derive(Debug, Default)]
struct CountingQuotes {
    table: Mutex<HashMap<String, Quote>>,
    batch_calls: AtomicUsize,
    single_calls: AtomicUsize,
}

impl CountingQuotes {
    fn set(&self, symbol: &str, last: f64, prev_close: f64) {
        let quote = Quote {
            symbol: symbol.into(),
            last,
            bid: Some(last),
            ask: Some(last),
            prev_close: Some(prev_close),
            ..Quote::default()
        };
        self.table().insert(symbol.into(), quote);
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<String, Quote>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn batches(&self) -> usize {
        self.batch_calls.load(Ordering::SeqCst)
    }
}

#[tonic::async_trait]
impl QuoteSource for CountingQuotes {
    async fn quote(&self, _tier: Tier, symbol: &str) -> Result<Option<Quote>, QuoteError> {
        self.single_calls.fetch_add(1, Ordering::SeqCst);
        Ok(self.table().get(symbol).cloned())
    }

    async fn quotes(
        &self,
        _tier: Tier,
        _deadline: Option<Duration>,
        symbols: &[String],
    ) -> Result<HashMap<String, Quote>, QuoteError> {
        self.batch_calls.fetch_add(1, Ordering::SeqCst);
        let table = self.table();
        Ok(symbols
            .iter()
            .filter_map(|symbol| Some((symbol.clone(), table.get(symbol)?.clone())))
            .collect())
    }
}

/// A portfolio server over `db` with its own in-process cache (quote TTL raised to a minute so
/// cache hits do not depend on the test's speed), or none.
struct ValuationApp {
    _served: Served<ServeError>,
    client: PortfolioServiceClient<Channel>,
}

impl ValuationApp {
    async fn spawn(db: &Db, quotes: Arc<CountingQuotes>, cached: bool) -> Self {
        let mut book = PortfolioBook::new(db.clone(), quotes);
        if cached {
            let mut ttl = TtlPolicy::default();
            ttl.set(DataClass::Quote, Tier::Shared, Duration::from_secs(60));
            book = book.with_cache(Cache::in_process(CacheConfig {
                ttl,
                ..CacheConfig::default()
            }));
        }
        let db = db.clone();
        let served = serve_on_loopback(move |listener, shutdown| {
            bourse_portfolio::serve_book(listener, db, book, GrpcServerConfig::default(), shutdown)
        })
        .await;
        let client = PortfolioServiceClient::new(served.channel.clone());
        Self {
            _served: served,
            client,
        }
    }

    async fn buy(&mut self, portfolio_id: &str, symbol: &str, quantity: &str) {
        let request = PlaceOrderRequest {
            portfolio_id: portfolio_id.into(),
            order: Some(market(symbol, OrderSide::Buy, quantity)),
            idempotency_key: String::new(),
        };
        let order = self
            .client
            .place_order(as_account("alice", request))
            .await
            .expect("place order")
            .into_inner();
        assert_eq!(order.reject_reason, "", "{order:?}");
    }

    async fn valuation(&mut self, account: &str, portfolio_id: &str) -> Result<Valuation, Status> {
        let request = GetValuationRequest {
            portfolio_id: portfolio_id.into(),
        };
        Ok(self
            .client
            .get_valuation(as_account(account, request))
            .await?
            .into_inner())
    }

    async fn quantity(&mut self, portfolio_id: &str, symbol: &str) -> Option<String> {
        let request = ListPositionsRequest {
            portfolio_id: portfolio_id.into(),
        };
        self.client
            .list_positions(as_account("alice", request))
            .await
            .expect("list positions")
            .into_inner()
            .positions
            .into_iter()
            .find(|position| position.symbol == symbol)
            .map(|position| position.quantity)
    }
}

store_test!(valuation_marks_every_position_with_one_batch_call, |db| {
    let quotes = Arc::new(CountingQuotes::default());
    let mut app = ValuationApp::spawn(db, quotes.clone(), false).await;
    // seed_portfolio deposits 1000.00: enough for 1000 of AAPL, not the MSFT buy; top it up.
    let id = crate::seed_portfolio(db, "alice", 1).await;
    quotes.set("AAPL", 50.0, 50.0);
    quotes.set("MSFT", 100.0, 100.0);
    app.buy(&id, "AAPL", "10").await; // 500.00
    app.buy(&id, "MSFT", "4").await; // 400.00, cash 100.00
    quotes.set("AAPL", 55.25, 54.0);
    quotes.set("MSFT", 98.1, 99.0);
    let (batches, singles) = (quotes.batches(), quotes.single_calls.load(Ordering::SeqCst));

    let valuation = app.valuation("alice", &id).await.expect("valuation");

    assert_eq!(
        quotes.batches(),
        batches + 1,
        "one BatchGetQuotes for both positions"
    );
    assert_eq!(
        quotes.single_calls.load(Ordering::SeqCst),
        singles,
        "no per-position call"
    );
    // AAPL 10 × 55.25 = 552.50 (upl 52.50, day 12.50); MSFT 4 × 98.1 = 392.40 (upl -7.60,
    // day -3.60); total 100.00 + 944.90 = 1044.90; weights 0.5288, 0.3755.
    assert_eq!(valuation.cash, "100.00");
    assert_eq!(valuation.market_value, "944.90");
    assert_eq!(valuation.total_value, "1044.90");
    assert_eq!(valuation.unrealized_pnl, "44.90");
    assert_eq!(valuation.day_change, "8.90");
    let weights: Vec<_> = valuation
        .positions
        .iter()
        .map(|p| (p.symbol.as_str(), p.weight.as_str()))
        .collect();
    assert_eq!(weights, [("AAPL", "0.5288"), ("MSFT", "0.3755")]);

    let other = app.valuation("mallory", &id).await.expect_err("not hers");
    assert_eq!(other.code(), Code::NotFound);

    quotes.table().remove("MSFT");
    let missing = app
        .valuation("alice", &id)
        .await
        .expect_err("no MSFT quote");
    assert_eq!(missing.code(), Code::FailedPrecondition);
    assert!(missing.message().contains("MSFT"), "{}", missing.message());
});

store_test!(cached_reads_are_never_stale_after_a_write, |db| {
    let quotes = Arc::new(CountingQuotes::default());
    let mut app = ValuationApp::spawn(db, quotes.clone(), true).await;
    // A second instance with its own cache over the same store, as `bourse up` runs.
    let mut other = ValuationApp::spawn(db, quotes.clone(), true).await;
    let id = seeded_small(&mut app, &quotes, db).await;

    let first = app.valuation("alice", &id).await.expect("valuation");
    let before = quotes.batches();
    let again = app.valuation("alice", &id).await.expect("cached valuation");
    assert_eq!(
        quotes.batches(),
        before,
        "the second read is served from the cache"
    );
    assert_eq!(again, first);
    assert_eq!(other.quantity(&id, "AAPL").await.as_deref(), Some("10"));

    // A write through this instance invalidates its cache before answering ...
    app.buy(&id, "AAPL", "2").await;
    let after = app
        .valuation("alice", &id)
        .await
        .expect("valuation after write");
    assert_eq!(after.positions[0].quantity, "12");
    assert_eq!(app.quantity(&id, "AAPL").await.as_deref(), Some("12"));
    // ... and the other instance's cached positions are keyed by version, so never stale.
    assert_eq!(other.quantity(&id, "AAPL").await.as_deref(), Some("12"));
    other.buy(&id, "AAPL", "1").await;
    assert_eq!(app.quantity(&id, "AAPL").await.as_deref(), Some("13"));
    let latest = app.valuation("alice", &id).await.expect("valuation");
    assert_eq!(latest.positions[0].quantity, "13");
});

/// Alice's portfolio (1000.00) holding 10 AAPL bought at 50, marked at 55.
async fn seeded_small(app: &mut ValuationApp, quotes: &CountingQuotes, db: &Db) -> String {
    let id = crate::seed_portfolio(db, "alice", 1).await;
    quotes.set("AAPL", 50.0, 50.0);
    app.buy(&id, "AAPL", "10").await;
    quotes.set("AAPL", 55.0, 54.0);
    id
}
