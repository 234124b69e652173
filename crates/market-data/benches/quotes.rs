//! Latest-quote reads in process: `GetQuote` and a 100-symbol `BatchGetQuotes` answered from a
//! warm cache, against the storage read a cache miss costs (the baseline), on the embedded
//! SQLite store in a temp directory. No network: the service's trait methods are called
//! directly.
//!
//! `cargo bench -p bourse-market-data --bench quotes`

use std::hint::black_box;
use std::time::Duration;

use bourse_cache::{Cache, CacheConfig};
use bourse_market_data::import::{self, BarImport, BarInput, ImportOptions, InstrumentInput};
use bourse_market_data::{MarketData, QuoteBus, store};
use bourse_proto::market_data::v1::market_data_service_server::MarketDataService;
use bourse_proto::market_data::v1::{BatchGetQuotesRequest, GetQuoteRequest};
use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use tonic::Request;

const SYMBOLS: usize = 100;

fn symbols() -> Vec<String> {
    (0..SYMBOLS).map(|n| format!("BQ{n:03}")).collect()
}

/// Stores one instrument and two daily bars per symbol, through the import path (which derives
/// each symbol's quote).
async fn seed(db: &bourse_store::Db) {
    let instruments = symbols().into_iter().zip(1..).map(|(symbol, line)| {
        Ok(InstrumentInput {
            line,
            symbol,
            name: "Bench Inc.".to_owned(),
            exchange: "XNAS".to_owned(),
            currency: "USD".to_owned(),
            asset_class: "equity".to_owned(),
            sector: None,
            active: true,
        })
    });
    import::import_instruments(db, instruments, ImportOptions::default())
        .await
        .expect("seed instruments");
    let mut bars = BarImport::new(db.clone(), ImportOptions::default());
    let rows = symbols().into_iter().flat_map(|symbol| {
        [15, 18].map(|day| {
            let ts = NaiveDate::from_ymd_opt(2024, 3, day)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("date");
            Ok(BarInput {
                line: 0,
                symbol: symbol.clone(),
                interval: "1d".to_owned(),
                ts,
                open: 100.0,
                high: 120.0,
                low: 99.0,
                close: 100.0 + f64::from(day),
                volume: 1e6,
                vwap: None,
                trades: None,
            })
        })
    });
    bars.push(rows).await.expect("seed bars");
    let report = bars.finish().await.expect("seed quotes");
    assert_eq!(report.quotes_refreshed.len(), SYMBOLS, "{report:?}");
}

fn quotes(c: &mut Criterion) {
    let runtime = Runtime::new().expect("tokio runtime");
    let test_db = runtime.block_on(bourse_test_support::sqlite_db());
    let db = test_db.db.clone();
    runtime.block_on(seed(&db));
    let service = MarketData::new(
        db.clone(),
        Cache::in_process(CacheConfig::default()),
        QuoteBus::default(),
    );
    let all = symbols();
    let names: Vec<&str> = all.iter().map(String::as_str).collect();
    let batch = || {
        Request::new(BatchGetQuotesRequest {
            symbols: all.clone(),
        })
    };
    let one = || {
        Request::new(GetQuoteRequest {
            symbol: "BQ042".to_owned(),
        })
    };
    // Warm the cache: every symbol read once.
    runtime
        .block_on(service.batch_get_quotes(batch()))
        .expect("warm the cache");

    let mut group = c.benchmark_group("quotes/sqlite");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(1));
    group.bench_function("get_quote (cached)", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(service.get_quote(one()).await.expect("quote")) });
    });
    group.bench_function("store read, 1 symbol (baseline)", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(store::quotes_for(&db, &["BQ042"]).await.expect("quote")) });
    });
    group.throughput(Throughput::Elements(SYMBOLS as u64));
    group.bench_function("batch_get_quotes 100 (cached)", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(service.batch_get_quotes(batch()).await.expect("batch")) });
    });
    group.bench_function("store read, 100 symbols (baseline)", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(store::quotes_for(&db, &names).await.expect("quotes")) });
    });
    group.finish();
    drop(service);
    drop(test_db);
}

criterion_group!(benches, quotes);
criterion_main!(benches);
