//! BatchGetRecentBars: the tail of ListBars for many symbols at once, per-symbol errors in
//! request order, the whole-call bounds and the cache.

use bourse_market_data::store::{self, BarRow, CorporateActionRow};
use bourse_proto::common::v1::ItemError;
use bourse_proto::market_data::v1::{
    Bar, BatchGetRecentBarsRequest, ListBarsRequest, RecentBarsResult, recent_bars_result,
};
use bourse_proto::time::naive_to_timestamp;
use bourse_store::Db;
use bourse_test_support::store_test;
use chrono::NaiveDateTime;

use crate::TestApp;
use crate::bars::{assert_close, at, request, row, seed, with};
use crate::instruments::{assert_invalid, instrument};

/// The trading days of ACME's daily history, June 2024.
const DAYS: [u32; 10] = [3, 4, 5, 6, 7, 10, 11, 12, 13, 14];

/// The raw close of ACME on June `d`: about 100 before its 2-for-1 split (ex 06-10), about 50
/// from then on.
fn close_on(d: u32) -> f64 {
    let traded = 100.0 + f64::from(d);
    if d >= 10 { traded / 2.0 } else { traded }
}

/// ACME: daily bars on [`DAYS`], 1m bars on the morning of 06-14, a 1.50 dividend ex 06-06, a
/// 2-for-1 split ex 06-10 and a 0.50 dividend ex 06-13.
async fn seed_history(db: &Db) {
    let mut rows: Vec<BarRow> = DAYS
        .iter()
        .map(|&d| {
            let close = close_on(d);
            let bar = row(
                "1d",
                at(2024, 6, d, 0, 0),
                [close - 1.0, close + 1.0, close - 2.0, close],
                1_000.0 * f64::from(d),
            );
            with(bar, Some(close - 0.5), Some(i64::from(d)))
        })
        .collect();
    rows.extend((0..6).map(|m| {
        let price = 60.0 + f64::from(m);
        row(
            "1m",
            at(2024, 6, 14, 13, 30 + m),
            [price; 4],
            f64::from(m + 1),
        )
    }));
    seed(db, &rows).await;
    let action =
        |n: u32, d: u32, kind: &str, ratio: Option<f64>, amount: Option<f64>| CorporateActionRow {
            id: format!("00000000-0000-0000-0000-00000000000{n}"),
            symbol: "ACME".to_owned(),
            ex_date: at(2024, 6, d, 0, 0),
            kind: kind.to_owned(),
            ratio,
            amount,
        };
    store::upsert_corporate_actions(
        db,
        &[
            action(1, 6, "dividend", None, Some(1.5)),
            action(2, 10, "split", Some(2.0), None),
            action(3, 13, "dividend", None, Some(0.5)),
        ],
    )
    .await
    .expect("store corporate actions");
}

fn recent(
    symbols: &[&str],
    interval: &str,
    adjustment: &str,
    count: i32,
) -> BatchGetRecentBarsRequest {
    BatchGetRecentBarsRequest {
        symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
        interval: interval.to_owned(),
        adjustment: adjustment.to_owned(),
        count,
        end: None,
    }
}

fn ending(request: BatchGetRecentBarsRequest, end: NaiveDateTime) -> BatchGetRecentBarsRequest {
    BatchGetRecentBarsRequest {
        end: Some(naive_to_timestamp(end)),
        ..request
    }
}

/// The bars of a successful result; panics naming the result otherwise.
fn series(result: &RecentBarsResult) -> &[Bar] {
    match &result.result {
        Some(recent_bars_result::Result::Series(series)) => &series.bars,
        other => panic!("{}: expected a series, got {other:?}", result.symbol),
    }
}

/// The item error of a failed result; panics naming the result otherwise.
fn item_error(result: &RecentBarsResult) -> &ItemError {
    match &result.result {
        Some(recent_bars_result::Result::Error(error)) => error,
        other => panic!("{}: expected an error, got {other:?}", result.symbol),
    }
}

fn times(bars: &[Bar]) -> Vec<NaiveDateTime> {
    bars.iter()
        .map(|bar| {
            let ts = bar.ts.as_ref().expect("a bar has a start");
            chrono::DateTime::from_timestamp(ts.seconds, 0)
                .expect("a valid start")
                .naive_utc()
        })
        .collect()
}

impl TestApp {
    async fn recent_bars(
        &mut self,
        request: BatchGetRecentBarsRequest,
    ) -> Result<Vec<RecentBarsResult>, tonic::Status> {
        self.client
            .batch_get_recent_bars(request)
            .await
            .map(|response| response.into_inner().results)
    }

    /// The bars of the one symbol `request` asks for.
    async fn one_series(&mut self, request: BatchGetRecentBarsRequest) -> Vec<Bar> {
        let results = self.recent_bars(request).await.expect("recent bars");
        assert_eq!(results.len(), 1, "one result per symbol");
        series(&results[0]).to_vec()
    }
}

store_test!(recent_bars_are_the_tail_of_list_bars, |db| {
    seed_history(db).await;
    let mut app = TestApp::spawn(db).await;

    for adjustment in ["all", "split", "raw", ""] {
        for end in [
            None,
            Some(at(2024, 6, 12, 0, 0)),
            Some(at(2024, 6, 7, 0, 0)),
        ] {
            let listed = app
                .list_bars(ListBarsRequest {
                    end: end.map(naive_to_timestamp),
                    ..request("1d", adjustment)
                })
                .await
                .expect("ListBars")
                .bars;
            // Tails that start before, between and after the three actions, and all of it.
            for count in [1_i32, 2, 3, 5, 8, 10, 50] {
                let mut asked = recent(&["ACME"], "1d", adjustment, count);
                asked.end = end.map(naive_to_timestamp);
                let got = app.one_series(asked).await;
                let tail = &listed[listed
                    .len()
                    .saturating_sub(usize::try_from(count).unwrap_or(0))..];
                assert_eq!(
                    got, tail,
                    "adjustment {adjustment:?}, end {end:?}, count {count}"
                );
            }
        }
    }

    // Against an independent reference: 06-03 is before all three actions.
    let all = app.one_series(recent(&["ACME"], "1d", "all", 10)).await;
    let factor = 0.5 * (1.0 - 1.5 / close_on(5)) * (1.0 - 0.5 / close_on(12));
    assert_close(
        all[0].close,
        close_on(3) * factor,
        "all-adjusted close of 06-03",
    );
    assert_close(
        all[0].volume,
        2.0 * 3_000.0,
        "split-adjusted volume of 06-03",
    );
    // 06-12 is only before the second dividend, 06-13 is its ex-date.
    assert_close(
        all[7].close,
        close_on(12) * (1.0 - 0.5 / close_on(12)),
        "all-adjusted close of 06-12",
    );
    assert_eq!(all[8].close, close_on(13), "06-13 is as traded");
    app.served.stop().await;
});

store_test!(newest_bars_oldest_first_before_end, |db| {
    seed_history(db).await;
    let mut app = TestApp::spawn(db).await;
    let day = |d| at(2024, 6, d, 0, 0);

    // Default interval 1d: the 1m bars of 06-14 do not leak in; oldest first.
    let newest = app.one_series(recent(&["ACME"], "", "raw", 3)).await;
    assert_eq!(times(&newest), [day(12), day(13), day(14)]);
    assert_eq!(newest[2].close, close_on(14));
    assert_eq!(newest[2].vwap, Some(close_on(14) - 0.5));
    assert_eq!(newest[2].trades, Some(14));

    // `end` is exclusive: a bar starting at it is left out.
    let before = app
        .one_series(ending(recent(&["ACME"], "1d", "raw", 2), day(10)))
        .await;
    assert_eq!(times(&before), [day(6), day(7)]);

    // Shorter history: fewer bars; none before the first: an empty series, not an error.
    let whole = app.one_series(recent(&["ACME"], "1d", "raw", 10_000)).await;
    assert_eq!(times(&whole), DAYS.map(day));
    let none = app
        .one_series(ending(recent(&["ACME"], "1d", "raw", 5), day(3)))
        .await;
    assert!(none.is_empty(), "{none:?}");

    // The stored 1m series is served as well.
    let minutes = app
        .one_series(ending(
            recent(&["ACME"], "1m", "raw", 2),
            at(2024, 6, 14, 13, 34),
        ))
        .await;
    assert_eq!(
        times(&minutes),
        [at(2024, 6, 14, 13, 32), at(2024, 6, 14, 13, 33)]
    );
    assert_eq!(
        minutes.iter().map(|b| b.volume).collect::<Vec<_>>(),
        [3.0, 4.0]
    );
    app.served.stop().await;
});

store_test!(per_symbol_errors_keep_request_order, |db| {
    seed_history(db).await;
    let beta: Vec<BarRow> = [3, 4]
        .map(|d| BarRow {
            symbol: "BETA".to_owned(),
            ..row("1d", at(2024, 6, d, 0, 0), [7.0; 4], f64::from(d))
        })
        .to_vec();
    store::upsert_instruments(db, &[instrument("BETA", "Beta plc", "equity", None)])
        .await
        .expect("store BETA");
    store::upsert_bars(db, &beta)
        .await
        .expect("store BETA bars");
    let mut app = TestApp::spawn(db).await;

    let symbols = ["BETA", "NOPE", "A B", "acme", "", "BETA"];
    let results = app
        .recent_bars(recent(&symbols, "1d", "raw", 2))
        .await
        .expect("a batch with bad items still succeeds");
    let echoed: Vec<&str> = results.iter().map(|r| r.symbol.as_str()).collect();
    assert_eq!(
        echoed, symbols,
        "one result per symbol, in request order, as sent"
    );

    let beta_bars = times(series(&results[0]));
    assert_eq!(beta_bars, [at(2024, 6, 3, 0, 0), at(2024, 6, 4, 0, 0)]);
    assert_eq!(
        series(&results[5]),
        series(&results[0]),
        "a repeated symbol"
    );
    let unknown = item_error(&results[1]);
    assert_eq!(unknown.code, "NOT_FOUND");
    assert!(unknown.message.contains("NOPE"), "{}", unknown.message);
    for position in [2, 4] {
        let invalid = item_error(&results[position]);
        assert_eq!(invalid.code, "INVALID_ARGUMENT", "{:?}", symbols[position]);
        assert!(
            invalid.message.starts_with("symbols:"),
            "{}",
            invalid.message
        );
    }
    // Symbols are normalised like everywhere else: `acme` is ACME.
    let acme = times(series(&results[3]));
    assert_eq!(acme, [at(2024, 6, 13, 0, 0), at(2024, 6, 14, 0, 0)]);

    let empty = app
        .recent_bars(recent(&[], "1d", "raw", 2))
        .await
        .expect("no symbols");
    assert!(empty.is_empty());
    app.served.stop().await;
});

store_test!(out_of_bounds_calls_are_refused_naming_the_field, |db| {
    seed_history(db).await;
    let mut app = TestApp::spawn(db).await;
    let many = |n: usize| -> Vec<String> { (0..n).map(|i| format!("S{i}")).collect() };
    let with_symbols = |symbols: Vec<String>, count: i32| BatchGetRecentBarsRequest {
        symbols,
        ..recent(&[], "1d", "all", count)
    };
    let mut bad_end = recent(&["ACME"], "1d", "all", 5);
    bad_end.end = Some(naive_to_timestamp(at(2024, 6, 1, 0, 0)));
    if let Some(end) = bad_end.end.as_mut() {
        end.nanos = -1;
    }

    let cases = [
        ("count", recent(&["ACME"], "1d", "all", 0)),
        ("count", recent(&["ACME"], "1d", "all", -3)),
        ("count", recent(&["ACME"], "1d", "all", 10_001)),
        ("symbols", with_symbols(many(501), 1)),
        // 21 × 10,000 = 210,000 bars, over the 200,000 a call may ask for.
        ("count", with_symbols(many(21), 10_000)),
        // Only stored intervals: 1h or 1w would be aggregated.
        ("interval", recent(&["ACME"], "1h", "all", 5)),
        ("interval", recent(&["ACME"], "1w", "all", 5)),
        ("interval", recent(&["ACME"], "2m", "all", 5)),
        ("adjustment", recent(&["ACME"], "1d", "dividends", 5)),
        ("end", bad_end),
    ];
    for (field, request) in cases {
        let status = app
            .recent_bars(request.clone())
            .await
            .expect_err(&format!("{field} should be refused: {request:?}"));
        assert_invalid(&status, field);
    }
    let product = app
        .recent_bars(with_symbols(many(21), 10_000))
        .await
        .expect_err("too many bars");
    assert!(
        product.message().contains("210000"),
        "{}",
        product.message()
    );

    // The bounds themselves are allowed: 20 × 10,000 and 500 symbols.
    let at_bound = app
        .recent_bars(with_symbols(many(20), 10_000))
        .await
        .expect("20 symbols × 10,000 bars");
    assert_eq!(at_bound.len(), 20);
    let widest = app
        .recent_bars(with_symbols(many(500), 1))
        .await
        .expect("500 symbols");
    assert_eq!(widest.len(), 500);
    assert!(widest.iter().all(|r| item_error(r).code == "NOT_FOUND"));
    app.served.stop().await;
});

store_test!(series_are_cached_per_count_and_end, |db| {
    seed_history(db).await;
    let mut app = TestApp::spawn(db).await;
    let first = app.one_series(recent(&["ACME"], "1d", "all", 3)).await;

    // A newer bar arrives behind the cache's back.
    let newer = row("1d", at(2024, 6, 17, 0, 0), [55.0; 4], 17_000.0);
    store::upsert_bars(db, &[newer])
        .await
        .expect("store a newer bar");

    let again = app.one_series(recent(&["ACME"], "1d", "all", 3)).await;
    assert_eq!(
        again, first,
        "a repeated 'now' request is answered from the cache"
    );
    let four = app.one_series(recent(&["ACME"], "1d", "all", 4)).await;
    assert_eq!(
        times(&four).last(),
        Some(&at(2024, 6, 17, 0, 0)),
        "another count is another entry"
    );
    let ended = app
        .one_series(ending(
            recent(&["ACME"], "1d", "all", 3),
            at(2024, 7, 1, 0, 0),
        ))
        .await;
    assert_eq!(times(&ended).last(), Some(&at(2024, 6, 17, 0, 0)));

    // An unknown symbol is not cached: once its instrument exists, it is found.
    let missing = app
        .recent_bars(recent(&["LATE"], "1d", "all", 3))
        .await
        .expect("recent bars");
    assert_eq!(item_error(&missing[0]).code, "NOT_FOUND");
    store::upsert_instruments(db, &[instrument("LATE", "Late Ltd", "equity", None)])
        .await
        .expect("store LATE");
    let found = app.one_series(recent(&["LATE"], "1d", "all", 3)).await;
    assert!(found.is_empty(), "{found:?}");
    app.served.stop().await;
});
