//! The portfolio book in process (the service's trait methods called directly, no network):
//! `PlaceOrder` throughput (a filled market buy: one write transaction) and `GetValuation` of a
//! 20-position portfolio from the cache against the uncached read (the baseline: snapshot read,
//! one batch quote call to an in-memory source, valuation).
//!
//! Runs on PostgreSQL when `DATABASE_URL` is set (its own throw-away database), else on the
//! embedded SQLite store:
//! `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p bourse-portfolio --bench book`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bourse_cache::{Cache, CacheConfig};
use bourse_portfolio::store::{self, PortfolioRow};
use bourse_portfolio::{PortfolioBook, StaticQuotes};
use bourse_proto::portfolio::v1::portfolio_service_server::PortfolioService;
use bourse_proto::portfolio::v1::{
    GetValuationRequest, Order, OrderSide, OrderType, PlaceOrderRequest,
};
use bourse_runtime::caller::with_account;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use tonic::Request;

const POSITIONS: usize = 20;

fn as_account<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    with_account(&mut request, "bench").expect("account");
    request
}

fn buy(portfolio_id: &str, symbol: &str) -> PlaceOrderRequest {
    PlaceOrderRequest {
        portfolio_id: portfolio_id.to_owned(),
        order: Some(Order {
            symbol: symbol.to_owned(),
            side: OrderSide::Buy.into(),
            quantity: "1".to_owned(),
            r#type: OrderType::Market.into(),
            ..Order::default()
        }),
        idempotency_key: String::new(),
    }
}

async fn seed_portfolio(db: &bourse_store::Db, id: &str) {
    let now = chrono::Utc::now().naive_utc();
    let row = PortfolioRow {
        id: id.to_owned(),
        account: "bench".to_owned(),
        name: id.to_owned(),
        base_currency: "USD".to_owned(),
        cash: "1000000000.00".to_owned(),
        allow_short: false,
        version: 0,
        created_at: now,
        updated_at: now,
    };
    store::insert_portfolio(db, &row)
        .await
        .expect("seed portfolio");
}

fn book(c: &mut Criterion) {
    let runtime = Runtime::new().expect("tokio runtime");
    let (postgres, sqlite) = runtime.block_on(async {
        match bourse_test_support::postgres_db().await {
            Some(db) => (Some(db), None),
            None => (None, Some(bourse_test_support::sqlite_db().await)),
        }
    });
    let (db, backend) = match (&postgres, &sqlite) {
        (Some(test_db), _) => (test_db.db.clone(), "postgres"),
        (_, Some(test_db)) => (test_db.db.clone(), "sqlite"),
        _ => unreachable!("one backend is always set"),
    };
    let quotes = StaticQuotes::new();
    let symbols: Vec<String> = (0..POSITIONS).map(|n| format!("BP{n:02}")).collect();
    for (n, symbol) in symbols.iter().enumerate() {
        let price = 10.0 + n as f64 * 3.25;
        quotes.set(symbol, price, Some(price - 0.01), Some(price + 0.01));
    }
    let uncached = PortfolioBook::new(db.clone(), Arc::new(quotes.clone()));
    let cached = uncached
        .clone()
        .with_cache(Cache::in_process(CacheConfig::default()));
    runtime.block_on(async {
        seed_portfolio(&db, "orders").await;
        seed_portfolio(&db, "valued").await;
        for symbol in &symbols {
            uncached
                .place_order(as_account(buy("valued", symbol)))
                .await
                .expect("seed position");
        }
    });

    let mut group = c.benchmark_group(format!("portfolio/{backend}"));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    group.bench_function("place_order_market_buy", |b| {
        b.to_async(&runtime).iter(|| async {
            let order = uncached
                .place_order(as_account(buy("orders", "BP00")))
                .await
                .expect("place");
            black_box(order);
        });
    });
    let valuation = || {
        as_account(GetValuationRequest {
            portfolio_id: "valued".to_owned(),
        })
    };
    group.bench_function("get_valuation_uncached_baseline", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(
                uncached
                    .get_valuation(valuation())
                    .await
                    .expect("valuation"),
            );
        });
    });
    group.bench_function("get_valuation_cached", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(cached.get_valuation(valuation()).await.expect("valuation"));
        });
    });
    group.finish();
    drop((postgres, sqlite));
}

criterion_group!(benches, book);
criterion_main!(benches);
