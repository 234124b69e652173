//! ListBars on stored bars: reading back, pages, adjustment, periods and errors; the helpers
//! the other bar tests share.

use bourse_market_data::store::{self, BarRow, CorporateActionRow};
use bourse_proto::market_data::v1::{Bar, ListBarsRequest, ListBarsResponse};
use bourse_proto::time::naive_to_timestamp;
use bourse_store::Db;
use bourse_test_support::store_test;
use chrono::{Days, NaiveDate, NaiveDateTime, Utc};
use tonic::Code;

use crate::TestApp;
use crate::instruments::{assert_invalid, instrument};

/// Relative tolerance of adjusted and aggregated prices: a few ulps of the arithmetic.
pub(crate) const EPS: f64 = 1e-9;

pub(crate) fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|date| date.and_hms_opt(h, min, 0))
        .expect("valid time")
}

/// A bar row; `ohlc` is open, high, low, close.
pub(crate) fn row(interval: &str, ts: NaiveDateTime, ohlc: [f64; 4], volume: f64) -> BarRow {
    let [open, high, low, close] = ohlc;
    BarRow {
        symbol: "ACME".to_owned(),
        interval: interval.to_owned(),
        ts,
        open,
        high,
        low,
        close,
        volume,
        vwap: None,
        trades: None,
    }
}

pub(crate) fn with(row: BarRow, vwap: Option<f64>, trades: Option<i64>) -> BarRow {
    BarRow {
        vwap,
        trades,
        ..row
    }
}

/// Stores the instrument ACME and `bars` through the store's upsert.
pub(crate) async fn seed(db: &Db, bars: &[BarRow]) {
    store::upsert_instruments(db, &[instrument("ACME", "Acme Corp.", "equity", None)])
        .await
        .expect("store instrument");
    store::upsert_bars(db, bars).await.expect("store bars");
}

/// The wire bar a stored row should come back as.
pub(crate) fn wire(row: &BarRow) -> Bar {
    Bar {
        ts: Some(naive_to_timestamp(row.ts)),
        open: row.open,
        high: row.high,
        low: row.low,
        close: row.close,
        volume: row.volume,
        vwap: row.vwap,
        trades: row.trades,
    }
}

pub(crate) fn request(interval: &str, adjustment: &str) -> ListBarsRequest {
    ListBarsRequest {
        symbol: "ACME".into(),
        interval: interval.into(),
        adjustment: adjustment.into(),
        ..Default::default()
    }
}

pub(crate) fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= EPS * expected.abs().max(1.0),
        "{what}: {actual} != {expected}"
    );
}

/// Compares a bar with hand-computed values: ts, [open, high, low, close], volume, vwap, trades.
pub(crate) fn assert_bar(
    bar: &Bar,
    ts: NaiveDateTime,
    ohlc: [f64; 4],
    volume: f64,
    vwap: Option<f64>,
    trades: Option<i64>,
) {
    assert_eq!(bar.ts, Some(naive_to_timestamp(ts)), "ts of {bar:?}");
    let got = [bar.open, bar.high, bar.low, bar.close];
    for (name, (got, want)) in ["open", "high", "low", "close"]
        .iter()
        .zip(got.into_iter().zip(ohlc))
    {
        assert_close(got, want, &format!("{name} at {ts}"));
    }
    assert_close(bar.volume, volume, &format!("volume at {ts}"));
    match (bar.vwap, vwap) {
        (Some(got), Some(want)) => assert_close(got, want, &format!("vwap at {ts}")),
        (got, want) => assert_eq!(got, want, "vwap at {ts}"),
    }
    assert_eq!(bar.trades, trades, "trades at {ts}");
}

impl TestApp {
    pub(crate) async fn list_bars(
        &mut self,
        request: ListBarsRequest,
    ) -> Result<ListBarsResponse, tonic::Status> {
        self.client.list_bars(request).await.map(|r| r.into_inner())
    }

    /// Every bar of `request`, walking its pages with `page_size`; also returns the page count.
    pub(crate) async fn walk_bars(
        &mut self,
        request: ListBarsRequest,
        page_size: i32,
    ) -> (Vec<Bar>, usize) {
        let mut bars = Vec::new();
        let mut pages = 0;
        let mut token = String::new();
        loop {
            let page = self
                .list_bars(ListBarsRequest {
                    page_size,
                    page_token: token,
                    ..request.clone()
                })
                .await
                .expect("a page of bars");
            assert!(
                page.bars.len() <= usize::try_from(page_size).unwrap_or(0),
                "page larger than asked for"
            );
            pages += 1;
            bars.extend(page.bars);
            token = page.next_page_token;
            if token.is_empty() {
                return (bars, pages);
            }
            assert!(pages < 1_000, "pagination does not end");
        }
    }
}

store_test!(stored_bars_read_back_exactly_across_pages, |db| {
    let days = [2, 3, 4, 5, 8, 9, 10];
    let rows: Vec<BarRow> = days
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let price = 100.0 + i as f64;
            let bar = row(
                "1d",
                at(2024, 1, d, 0, 0),
                [price, price + 2.0, price - 1.0, price + 0.5],
                1e6 + i as f64,
            );
            // Every other bar without the optional fields.
            if i % 2 == 0 {
                with(bar, Some(price + 0.25), Some(1_000 + i as i64))
            } else {
                bar
            }
        })
        .collect();
    // A 1m bar of the same symbol must not leak into the daily series.
    let mut stored = rows.clone();
    stored.push(row("1m", at(2024, 1, 3, 15, 0), [1.0, 1.0, 1.0, 1.0], 1.0));
    seed(db, &stored).await;
    let mut app = TestApp::spawn(db).await;

    // Interval and adjustment default to 1d and split.
    let all = app.list_bars(request("", "")).await.expect("all bars");
    assert_eq!(all.symbol, "ACME");
    assert_eq!(all.interval, "1d");
    assert_eq!(all.adjustment, "split");
    assert_eq!(all.bars, rows.iter().map(wire).collect::<Vec<_>>());
    assert_eq!(all.next_page_token, "");

    let (walked, pages) = app.walk_bars(request("1d", "raw"), 2).await;
    assert_eq!(walked, all.bars, "pages of 2 add up to the whole list");
    assert_eq!(pages, 4);

    // start inclusive, end exclusive.
    let window = app
        .list_bars(ListBarsRequest {
            start: Some(naive_to_timestamp(at(2024, 1, 4, 0, 0))),
            end: Some(naive_to_timestamp(at(2024, 1, 9, 0, 0))),
            ..request("1d", "raw")
        })
        .await
        .expect("a window");
    assert_eq!(window.bars, all.bars[2..5].to_vec());

    // A page size above the maximum is lowered, not refused.
    let huge = app
        .list_bars(ListBarsRequest {
            page_size: 1_000_000,
            ..request("1d", "")
        })
        .await
        .expect("huge page size");
    assert_eq!(huge.bars.len(), rows.len());
    app.served.stop().await;
});

/// ACME around a 2-for-1 split (ex 2024-06-05) and a 2.00 dividend (ex 2024-06-04).
async fn seed_corporate_actions(db: &Db) {
    let bar = |d: u32, close: f64, volume: f64| {
        with(
            row(
                "1d",
                at(2024, 6, d, 0, 0),
                [close - 1.0, close + 1.0, close - 2.0, close],
                volume,
            ),
            Some(close),
            Some(9),
        )
    };
    seed(
        db,
        &[
            bar(3, 100.0, 1_000.0),
            bar(4, 98.0, 1_200.0),
            bar(5, 50.0, 2_600.0),
            bar(6, 51.0, 2_400.0),
        ],
    )
    .await;
    let action = |id: &str, d: u32, kind: &str, ratio: Option<f64>, amount: Option<f64>| {
        CorporateActionRow {
            id: id.to_owned(),
            symbol: "ACME".to_owned(),
            ex_date: at(2024, 6, d, 0, 0),
            kind: kind.to_owned(),
            ratio,
            amount,
        }
    };
    store::upsert_corporate_actions(
        db,
        &[
            action(
                "00000000-0000-0000-0000-000000000001",
                5,
                "split",
                Some(2.0),
                None,
            ),
            action(
                "00000000-0000-0000-0000-000000000002",
                4,
                "dividend",
                None,
                Some(2.0),
            ),
        ],
    )
    .await
    .expect("store corporate actions");
}

store_test!(splits_and_dividends_adjust_earlier_bars, |db| {
    seed_corporate_actions(db).await;
    let mut app = TestApp::spawn(db).await;
    let day = |d| at(2024, 6, d, 0, 0);

    let raw = app.list_bars(request("1d", "raw")).await.expect("raw");
    assert_eq!(raw.adjustment, "raw");
    assert_bar(
        &raw.bars[0],
        day(3),
        [99.0, 101.0, 98.0, 100.0],
        1_000.0,
        Some(100.0),
        Some(9),
    );

    // split: before 06-05 prices halve and volumes double; from 06-05 on, as traded.
    let split = app.list_bars(request("1d", "split")).await.expect("split");
    assert_bar(
        &split.bars[0],
        day(3),
        [49.5, 50.5, 49.0, 50.0],
        2_000.0,
        Some(50.0),
        Some(9),
    );
    assert_bar(
        &split.bars[1],
        day(4),
        [48.5, 49.5, 48.0, 49.0],
        2_400.0,
        Some(49.0),
        Some(9),
    );
    assert_eq!(split.bars[2..], raw.bars[2..]);
    let default = app
        .list_bars(request("1d", ""))
        .await
        .expect("default adjustment");
    assert_eq!(default.bars, split.bars, "split is the default");

    // all: 06-03 is also before the dividend: × (1 - 2 / 100), the close before its ex-date.
    let all = app.list_bars(request("1d", "all")).await.expect("all");
    let f = 0.5 * 0.98;
    assert_bar(
        &all.bars[0],
        day(3),
        [99.0 * f, 101.0 * f, 98.0 * f, 100.0 * f],
        2_000.0,
        Some(100.0 * f),
        Some(9),
    );
    assert_eq!(
        all.bars[1..],
        split.bars[1..],
        "06-04 is the ex-date itself"
    );

    // Adjusted before aggregating: the week of 06-03 mixes adjusted and unadjusted days.
    let week = app
        .list_bars(request("1w", "split"))
        .await
        .expect("adjusted week");
    assert_eq!(week.bars.len(), 1);
    assert_bar(
        &week.bars[0],
        day(3),
        [49.5, 52.0, 48.0, 51.0],
        2_000.0 + 2_400.0 + 2_600.0 + 2_400.0,
        Some((50.0 * 2_000.0 + 49.0 * 2_400.0 + 50.0 * 2_600.0 + 51.0 * 2_400.0) / 9_400.0),
        Some(36),
    );

    // Pages of one adjust each bar the same way as the whole list does.
    let (walked, _) = app.walk_bars(request("1d", "all"), 1).await;
    assert_eq!(walked, all.bars);
    app.served.stop().await;
});

store_test!(period_shorthand_ends_now, |db| {
    let today = Utc::now().date_naive();
    let midnight = |days_ago: u64| {
        today
            .checked_sub_days(Days::new(days_ago))
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("valid day")
    };
    let rows: Vec<BarRow> = [400, 40, 10, 3, 1]
        .into_iter()
        .map(|ago| row("1d", midnight(ago), [1.0, 1.0, 1.0, 1.0], ago as f64))
        .collect();
    seed(db, &rows).await;
    let mut app = TestApp::spawn(db).await;
    let mut volumes = async |period: &str| {
        app.list_bars(ListBarsRequest {
            period: period.to_owned(),
            ..request("1d", "raw")
        })
        .await
        .expect("bars for a period")
        .bars
        .iter()
        .map(|b| b.volume)
        .collect::<Vec<_>>()
    };
    assert_eq!(volumes("5d").await, [3.0, 1.0]);
    assert_eq!(volumes("1mo").await, [10.0, 3.0, 1.0]);
    assert_eq!(volumes("3mo").await, [40.0, 10.0, 3.0, 1.0]);
    assert_eq!(volumes("max").await, [400.0, 40.0, 10.0, 3.0, 1.0]);
    assert_eq!(volumes("5y").await, [400.0, 40.0, 10.0, 3.0, 1.0]);
    app.served.stop().await;
});

store_test!(bad_parameters_are_refused_naming_the_field, |db| {
    let rows: Vec<BarRow> = (1..=5)
        .map(|d| row("1d", at(2024, 1, d, 0, 0), [1.0, 1.0, 1.0, 1.0], 1.0))
        .collect();
    seed(db, &rows).await;
    let mut app = TestApp::spawn(db).await;

    let unknown = app
        .list_bars(ListBarsRequest {
            symbol: "NOPE".into(),
            ..request("1d", "")
        })
        .await
        .expect_err("unknown symbol");
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(unknown.message().contains("NOPE"), "{}", unknown.message());

    let cases = [
        (
            "symbol",
            ListBarsRequest {
                symbol: "A B".into(),
                ..request("1d", "")
            },
        ),
        ("interval", request("2m", "")),
        ("adjustment", request("1d", "dividends")),
        (
            "period",
            ListBarsRequest {
                period: "2w".into(),
                ..request("1d", "")
            },
        ),
        (
            "period",
            ListBarsRequest {
                period: "1y".into(),
                start: Some(naive_to_timestamp(at(2024, 1, 1, 0, 0))),
                ..request("1d", "")
            },
        ),
        (
            "start",
            ListBarsRequest {
                start: Some(naive_to_timestamp(at(2024, 2, 1, 0, 0))),
                end: Some(naive_to_timestamp(at(2024, 1, 1, 0, 0))),
                ..request("1d", "")
            },
        ),
        (
            "page_size",
            ListBarsRequest {
                page_size: -5,
                ..request("1d", "")
            },
        ),
        (
            "page_token",
            ListBarsRequest {
                page_token: "garbage".into(),
                ..request("1d", "")
            },
        ),
    ];
    for (field, bad) in cases {
        let status = app.list_bars(bad).await.expect_err(field);
        assert_invalid(&status, field);
    }

    // A token belongs to the request that produced it.
    let first = app
        .list_bars(ListBarsRequest {
            page_size: 2,
            ..request("1d", "raw")
        })
        .await
        .expect("first page");
    assert!(!first.next_page_token.is_empty());
    let continued = app
        .list_bars(ListBarsRequest {
            page_size: 2,
            page_token: first.next_page_token.clone(),
            ..request("1d", "raw")
        })
        .await
        .expect("the same request continues");
    assert_eq!(continued.bars.len(), 2);
    for other in [
        request("1w", "raw"),
        request("1d", "split"),
        ListBarsRequest {
            period: "max".into(),
            ..request("1d", "raw")
        },
    ] {
        let status = app
            .list_bars(ListBarsRequest {
                page_size: 2,
                page_token: first.next_page_token.clone(),
                ..other
            })
            .await
            .expect_err("token reused with other parameters");
        assert_invalid(&status, "page_token");
    }
    app.served.stop().await;
});
