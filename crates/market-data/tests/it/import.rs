//! Bulk imports: the library path on both backends, and ImportBars over gRPC.

use bourse_market_data::error::MarketDataError;
use bourse_market_data::import::{
    self, BarImport, BarInput, ImportError, ImportOptions, ImportReport, InstrumentInput,
    MAX_REPORTED_ERRORS, RowError, parse_ts,
};
use bourse_market_data::store::{self, BarRow};
use bourse_proto::market_data::v1::{
    Bar, GetQuoteRequest, ImportBar, ImportBarsRequest, ImportOptions as WireOptions,
};
use bourse_proto::time::naive_to_timestamp;
use bourse_store::schema::bars;
use bourse_store::{Db, StoreError, with_conn};
use bourse_test_support::store_test;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tonic::{Code, Status};

use crate::{TestApp, seed_quote};

/// Imports one active equity per symbol.
async fn seed_instruments(db: &Db, symbols: &[&str]) {
    let rows = symbols.iter().zip(1..).map(|(symbol, line)| {
        Ok(InstrumentInput {
            line,
            symbol: (*symbol).to_owned(),
            name: format!("{symbol} Inc."),
            exchange: "XNAS".to_owned(),
            currency: "USD".to_owned(),
            asset_class: "equity".to_owned(),
            sector: None,
            active: true,
        })
    });
    let report = import::import_instruments(db, rows, ImportOptions::default())
        .await
        .expect("import instruments");
    assert_eq!(report.imported, symbols.len() as u64, "{report:?}");
}

/// A daily bar of `symbol` on `date` closing at `close`, with a consistent range.
fn daily(line: u64, symbol: &str, date: &str, close: f64) -> BarInput {
    BarInput {
        line,
        symbol: symbol.to_owned(),
        interval: "1d".to_owned(),
        ts: parse_ts(date).expect("date"),
        open: close - 1.0,
        high: close + 2.0,
        low: close - 3.0,
        close,
        volume: 1_000.0 * close,
        vwap: Some(close - 0.5),
        trades: Some(line as i64),
    }
}

async fn import_rows(db: &Db, rows: Vec<BarInput>, all_or_nothing: bool) -> ImportReport {
    let options = ImportOptions {
        all_or_nothing,
        ..ImportOptions::default()
    };
    let mut session = BarImport::new(db.clone(), options);
    session
        .push(rows.into_iter().map(Ok))
        .await
        .expect("push rows");
    session.finish().await.expect("finish import")
}

/// Every stored bar of `symbol`, by interval and time.
async fn stored_bars(db: &Db, symbol: &str) -> Vec<BarRow> {
    async fn load(db: &Db, symbol: &str) -> Result<Vec<BarRow>, StoreError> {
        Ok(with_conn!(db, |conn| {
            bars::table
                .filter(bars::symbol.eq(symbol))
                .order((bars::interval, bars::ts))
                .select(BarRow::as_select())
                .load(conn)
                .await?
        }))
    }
    load(db, symbol).await.expect("read bars")
}

fn row(input: &BarInput) -> BarRow {
    input.clone().validate().expect("valid bar").row().clone()
}

fn fields(report: &ImportReport) -> Vec<(u64, &str)> {
    report.errors.iter().map(|e| (e.line, e.field)).collect()
}

store_test!(imports_bars_and_reads_them_back_exactly, |db| {
    seed_instruments(db, &["AAPL", "MSFT"]).await;
    let aapl = vec![
        daily(1, "aapl", "2024-03-13", 171.13),
        daily(2, "AAPL", "2024-03-14", 173.0),
        daily(3, "AAPL", "2024-03-15", 172.62),
    ];
    let minute = BarInput {
        interval: "1m".to_owned(),
        ts: parse_ts("2024-03-15T14:31:00Z").expect("time"),
        vwap: None,
        trades: None,
        ..daily(4, "AAPL", "2024-03-15", 172.5)
    };
    let mut rows = aapl.clone();
    rows.push(minute.clone());
    rows.push(daily(5, "MSFT", "2024-03-15", 425.22));

    let report = import_rows(db, rows, false).await;
    assert_eq!(
        (report.received, report.imported, report.rejected),
        (5, 5, 0)
    );
    assert_eq!(report.quotes_refreshed, ["AAPL", "MSFT"]);

    // Ordered by interval ("1d" before "1m"), then time.
    let mut expected: Vec<BarRow> = aapl.iter().map(row).collect();
    expected.push(row(&minute));
    let stored = stored_bars(db, "AAPL").await;
    assert_eq!(stored, expected, "exactly what was imported, nothing else");
    assert_eq!(stored[0].symbol, "AAPL", "symbols are normalised");

    let quote = store::quotes_for(db, &["AAPL"]).await.expect("quotes");
    let quote = quote
        .as_slice()
        .first()
        .expect("AAPL quote derived from its bars");
    assert_eq!(
        (quote.last, quote.prev_close, quote.day_high),
        (172.62, Some(173.0), Some(174.62))
    );
    assert_eq!(quote.ts, parse_ts("2024-03-15").expect("date"));
});

store_test!(reimporting_is_idempotent_and_replaces_values, |db| {
    seed_instruments(db, &["KO"]).await;
    let first: Vec<BarInput> = (1..=20)
        .map(|day| daily(day, "KO", &format!("2024-01-{day:02}"), 60.0))
        .collect();
    import_rows(db, first.clone(), false).await;
    import_rows(db, first.clone(), false).await;
    assert_eq!(
        stored_bars(db, "KO").await.len(),
        20,
        "same rows, stored once"
    );

    let second: Vec<BarInput> = first
        .iter()
        .map(|bar| daily(bar.line, "KO", &bar.ts.date().to_string(), 61.5))
        .collect();
    let report = import_rows(db, second.clone(), true).await;
    assert_eq!(report.imported, 20);
    let stored = stored_bars(db, "KO").await;
    assert_eq!(stored, second.iter().map(row).collect::<Vec<_>>());
    let quote = store::quotes_for(db, &["KO"]).await.expect("quotes");
    assert_eq!(quote[0].last, 61.5, "the quote follows the replaced bar");

    // Two rows with one key in one import: the later one wins.
    let twice = vec![
        daily(1, "KO", "2024-02-01", 62.0),
        daily(2, "KO", "2024-02-01", 63.0),
    ];
    import_rows(db, twice, true).await;
    let stored = stored_bars(db, "KO").await;
    assert_eq!(stored.len(), 21);
    assert_eq!(stored[20].close, 63.0);
});

const BAD_CSV: &str = "symbol,ts,open,high,low,close,volume,vwap,trades
AAPL,2024-03-14,170,175,169,173,1000,,
AAPL,2024-03-15,170,171,169,173,1000,,
AAPL,2024-03-18,abc,175,169,173,1000,,
GOOD,2024-03-18,170,175,169,173,1000,,

AAPL,2024-03-19T15:00:00Z,170,175,169,173,1000,,
AAPL,2024-03-20,170,175,169,173,-5,,
AAPL,2024-03-21,170,175,169,173,1000,180,
AAPL,2024-03-22,170,175,169,173,1000,172,12
";

store_test!(bad_rows_are_reported_by_line_and_field_and_skipped, |db| {
    seed_instruments(db, &["AAPL"]).await;
    let report = import::import_bars_csv(db, BAD_CSV.as_bytes(), "1d", ImportOptions::default())
        .await
        .expect("import");
    assert_eq!(
        (report.received, report.imported, report.rejected),
        (8, 2, 6),
        "the blank line is no row"
    );
    assert!(!report.refused);
    assert_eq!(
        fields(&report),
        [
            (3, "high"),
            (4, "open"),
            (5, "symbol"),
            (7, "ts"),
            (8, "volume"),
            (9, "vwap"),
        ],
        "{:#?}",
        report.errors
    );
    let unknown = &report.errors[2];
    assert_eq!(unknown.symbol, "GOOD");
    assert!(
        unknown.reason.contains("no instrument GOOD"),
        "{}",
        unknown.reason
    );
    let stored = stored_bars(db, "AAPL").await;
    let days: Vec<String> = stored.iter().map(|b| b.ts.date().to_string()).collect();
    assert_eq!(days, ["2024-03-14", "2024-03-22"]);
    assert_eq!((stored[1].vwap, stored[1].trades), (Some(172.0), Some(12)));
});

store_test!(all_or_nothing_with_one_bad_row_writes_nothing, |db| {
    seed_instruments(db, &["AAPL"]).await;
    let mut rows: Vec<BarInput> = (1..=9)
        .map(|day| daily(day, "AAPL", &format!("2024-04-{day:02}"), 100.0))
        .collect();
    rows[6].low = 500.0;
    let report = import_rows(db, rows, true).await;
    assert!(report.refused);
    assert_eq!(
        (report.received, report.imported, report.rejected),
        (9, 0, 1)
    );
    assert_eq!(fields(&report), [(7, "low")]);
    assert!(stored_bars(db, "AAPL").await.is_empty(), "nothing stored");
    assert!(
        store::quotes_for(db, &["AAPL"])
            .await
            .expect("quotes")
            .is_empty(),
        "no quote derived"
    );

    // The same from CSV, where the bad row is the unknown instrument of the last line.
    let csv = "symbol,ts,open,high,low,close,volume\n\
               AAPL,2024-04-01,1,2,1,2,10\n\
               NOPE,2024-04-01,1,2,1,2,10\n";
    let options = ImportOptions {
        all_or_nothing: true,
        ..ImportOptions::default()
    };
    let report = import::import_bars_csv(db, csv.as_bytes(), "1d", options)
        .await
        .expect("import");
    assert!(report.refused);
    assert_eq!(fields(&report), [(3, "symbol")]);
    assert!(stored_bars(db, "AAPL").await.is_empty(), "still nothing");
});

store_test!(all_or_nothing_past_its_bound_is_resource_exhausted, |db| {
    seed_instruments(db, &["AAPL"]).await;
    let options = ImportOptions {
        all_or_nothing: true,
        max_buffered_rows: 3,
    };
    let mut session = BarImport::new(db.clone(), options);
    let rows = |from: u64| {
        (from..from + 2).map(|day| Ok(daily(day, "AAPL", &format!("2024-04-{day:02}"), 9.0)))
    };
    session.push(rows(1)).await.expect("two rows fit");
    let error = session.push(rows(3)).await.expect_err("four rows do not");
    assert!(
        matches!(error, ImportError::TooManyRows { limit: 3 }),
        "{error}"
    );
    let status = Status::from(MarketDataError::from(error));
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(stored_bars(db, "AAPL").await.is_empty());
});

store_test!(the_error_list_is_capped_and_says_so, |db| {
    let bad = (1..=1_005).map(|line| {
        Err(RowError {
            line,
            symbol: "X".to_owned(),
            field: "row",
            reason: "unreadable".to_owned(),
        })
    });
    let mut session = BarImport::new(db.clone(), ImportOptions::default());
    session.push(bad).await.expect("push");
    let report = session.finish().await.expect("finish");
    assert_eq!(report.rejected, 1_005);
    assert_eq!(report.errors.len(), MAX_REPORTED_ERRORS);
    assert_eq!(report.errors[998].line, 999);
    let last = report.errors.last().expect("summary entry");
    assert!(
        last.reason.contains("truncated at 1000") && last.reason.contains("6 more"),
        "{}",
        last.reason
    );
});

store_test!(an_imported_bar_does_not_replace_a_newer_quote, |db| {
    // A quote at 2024-03-15 20:00, after the 2024-03-15 daily bar starts.
    seed_quote(db, "AAPL", 110.0, 100.0).await;
    let report = import_rows(db, vec![daily(1, "AAPL", "2024-03-15", 50.0)], false).await;
    assert!(report.quotes_refreshed.is_empty());
    let quote = store::quotes_for(db, &["AAPL"]).await.expect("quotes");
    assert_eq!(quote[0].last, 110.0, "the newer quote stays");

    let report = import_rows(db, vec![daily(1, "AAPL", "2024-03-18", 55.0)], false).await;
    assert_eq!(report.quotes_refreshed, ["AAPL"]);
    let quote = store::quotes_for(db, &["AAPL"]).await.expect("quotes");
    assert_eq!(
        (quote[0].last, quote[0].prev_close),
        (55.0, Some(50.0)),
        "a newer bar replaces it, with the previous daily close"
    );
});

fn wire(line: u64, symbol: &str, date: &str, close: f64) -> ImportBar {
    let input = daily(line, symbol, date, close);
    ImportBar {
        symbol: input.symbol,
        interval: input.interval,
        line,
        bar: Some(Bar {
            ts: Some(naive_to_timestamp(input.ts)),
            open: input.open,
            high: input.high,
            low: input.low,
            close: input.close,
            volume: input.volume,
            vwap: input.vwap,
            trades: input.trades,
        }),
    }
}

store_test!(import_bars_streams_messages_over_grpc, |db| {
    seed_quote(db, "AAPL", 110.0, 100.0).await;
    let mut app = TestApp::spawn(db).await;
    let get_last = async |app: &mut TestApp| {
        let request = GetQuoteRequest {
            symbol: "AAPL".into(),
        };
        app.client
            .get_quote(request)
            .await
            .expect("quote")
            .into_inner()
            .last
    };
    assert_eq!(get_last(&mut app).await, 110.0, "cached now");

    let mut bad = wire(0, "AAPL", "2024-03-20", 120.0);
    bad.bar.as_mut().expect("bar").high = 1.0;
    let messages = vec![
        ImportBarsRequest {
            options: Some(WireOptions {
                all_or_nothing: false,
            }),
            bars: vec![
                wire(1, "AAPL", "2024-03-18", 118.0),
                wire(2, "AAPL", "2024-03-19", 119.0),
            ],
        },
        ImportBarsRequest {
            // Ignored: only the first message's options count.
            options: Some(WireOptions {
                all_or_nothing: true,
            }),
            bars: vec![
                bad,
                ImportBar {
                    bar: None,
                    ..wire(9, "AAPL", "2024-03-21", 1.0)
                },
            ],
        },
        ImportBarsRequest {
            options: None,
            bars: vec![wire(5, "AAPL", "2024-03-22", 122.0)],
        },
    ];
    let response = app
        .client
        .import_bars(tokio_stream::iter(messages))
        .await
        .expect("import")
        .into_inner();
    assert_eq!(
        (response.received, response.imported, response.rejected),
        (5, 3, 2)
    );
    let errors: Vec<(u64, &str)> = response
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(
        errors,
        [(3, "high"), (9, "bar")],
        "line 0 is the position in the stream"
    );
    assert_eq!(stored_bars(db, "AAPL").await.len(), 3);
    assert_eq!(
        get_last(&mut app).await,
        122.0,
        "the cached quote was invalidated"
    );

    let refused = app
        .client
        .import_bars(tokio_stream::iter(vec![ImportBarsRequest {
            options: Some(WireOptions {
                all_or_nothing: true,
            }),
            bars: vec![
                wire(1, "AAPL", "2024-03-25", 130.0),
                wire(2, "NOPE", "2024-03-25", 10.0),
            ],
        }]))
        .await
        .expect("import")
        .into_inner();
    assert_eq!(
        (refused.received, refused.imported, refused.rejected),
        (2, 0, 1)
    );
    assert_eq!(refused.errors[0].field, "symbol");
    assert_eq!(stored_bars(db, "AAPL").await.len(), 3, "nothing stored");

    let empty = app
        .client
        .import_bars(tokio_stream::iter(Vec::<ImportBarsRequest>::new()))
        .await
        .expect("empty import")
        .into_inner();
    assert_eq!(empty.received, 0);
    app.served.stop().await;
});
