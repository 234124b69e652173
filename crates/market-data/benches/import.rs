//! Bulk-import throughput in bars per second: the import path (checks, instrument look-ups,
//! chunked upserts, quote refresh), from rows and from CSV text, against a bare
//! `store::upsert_bars` of the same rows (the baseline). Runs on PostgreSQL when DATABASE_URL is
//! set (a throwaway database), else on the embedded SQLite store in a temp directory; the
//! benchmark names say which. Every iteration re-imports the same bars, so it measures the
//! upsert-replace path after the first.
//!
//! `cargo bench -p bourse-market-data --bench import`

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use bourse_market_data::import::{self, BarImport, BarInput, ImportOptions, InstrumentInput};
use bourse_market_data::store::{self, BarRow};
use bourse_store::Backend;
use chrono::{NaiveDate, TimeDelta};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;

const SYMBOLS: usize = 20;
const DAYS: usize = 1_000;

fn symbol(n: usize) -> String {
    format!("BI{n:02}")
}

/// `SYMBOLS` x `DAYS` consistent daily bars.
fn bars() -> Vec<BarInput> {
    let start = NaiveDate::from_ymd_opt(2015, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("date");
    let mut rows = Vec::with_capacity(SYMBOLS * DAYS);
    for s in 0..SYMBOLS {
        for day in 0..DAYS {
            let close = 50.0 + (day % 97) as f64 + s as f64;
            rows.push(BarInput {
                line: rows.len() as u64 + 2,
                symbol: symbol(s),
                interval: "1d".to_owned(),
                ts: start + TimeDelta::days(day as i64),
                open: close - 0.5,
                high: close + 1.0,
                low: close - 1.0,
                close,
                volume: 1e5,
                vwap: Some(close),
                trades: Some(1_000),
            });
        }
    }
    rows
}

fn csv(rows: &[BarInput]) -> String {
    let mut text = String::from("symbol,ts,open,high,low,close,volume,vwap,trades\n");
    for r in rows {
        let _ = writeln!(
            text,
            "{},{},{},{},{},{},{},{},{}",
            r.symbol,
            r.ts.date(),
            r.open,
            r.high,
            r.low,
            r.close,
            r.volume,
            r.vwap.unwrap_or_default(),
            r.trades.unwrap_or_default()
        );
    }
    text
}

fn import(c: &mut Criterion) {
    let runtime = Runtime::new().expect("tokio runtime");
    let test_db = runtime.block_on(async {
        let postgres = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => bourse_test_support::postgres_db().await,
            _ => None,
        };
        match postgres {
            Some(test_db) => test_db,
            None => bourse_test_support::sqlite_db().await,
        }
    });
    let db = test_db.db.clone();
    let backend = match db.backend() {
        Backend::Postgres => "postgres",
        Backend::Sqlite => "sqlite",
    };
    let instruments = (0..SYMBOLS).map(|n| {
        Ok(InstrumentInput {
            line: n as u64 + 2,
            symbol: symbol(n),
            name: "Bench Inc.".to_owned(),
            exchange: "XNAS".to_owned(),
            currency: "USD".to_owned(),
            asset_class: "equity".to_owned(),
            sector: None,
            active: true,
        })
    });
    runtime
        .block_on(import::import_instruments(
            &db,
            instruments,
            ImportOptions::default(),
        ))
        .expect("seed instruments");
    let rows = bars();
    let text = csv(&rows);
    let plain: Vec<BarRow> = rows
        .iter()
        .map(|r| r.clone().validate().expect("valid").row().clone())
        .collect();

    let mut group = c.benchmark_group(format!("import/{backend}"));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(rows.len() as u64));
    for all_or_nothing in [false, true] {
        let name = if all_or_nothing {
            "import path, all-or-nothing"
        } else {
            "import path, chunks of 5000"
        };
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let (db, rows) = (db.clone(), rows.clone());
                async move {
                    let mut took = Duration::ZERO;
                    for _ in 0..iters {
                        let input = rows.clone().into_iter().map(Ok);
                        let started = Instant::now();
                        let options = ImportOptions {
                            all_or_nothing,
                            ..ImportOptions::default()
                        };
                        let mut session = BarImport::new(db.clone(), options);
                        session.push(input).await.expect("push");
                        let report = session.finish().await.expect("import");
                        took += started.elapsed();
                        assert_eq!(report.imported, rows.len() as u64);
                    }
                    took
                }
            });
        });
    }
    group.bench_function("import path from CSV text", |b| {
        b.to_async(&runtime).iter(|| {
            let (db, text) = (db.clone(), text.clone());
            async move {
                let report = import::import_bars_csv(
                    &db,
                    std::io::Cursor::new(text.into_bytes()),
                    "1d",
                    ImportOptions::default(),
                )
                .await
                .expect("import");
                assert_eq!(report.imported, (SYMBOLS * DAYS) as u64);
            }
        });
    });
    group.bench_function("store::upsert_bars alone (baseline)", |b| {
        b.to_async(&runtime)
            .iter(|| async { store::upsert_bars(&db, &plain).await.expect("upsert") });
    });
    group.finish();
    drop(test_db);
}

criterion_group!(benches, import);
criterion_main!(benches);
