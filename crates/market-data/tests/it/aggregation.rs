//! ListBars of aggregated intervals: 1d to 1w and 1mo, 1m to 15m and 1h, and their pages.

use bourse_market_data::store::BarRow;
use bourse_proto::market_data::v1::ListBarsRequest;
use bourse_proto::time::naive_to_timestamp;
use bourse_test_support::store_test;
use chrono::TimeDelta;

use crate::TestApp;
use crate::bars::{assert_bar, at, request, row, seed, with};

store_test!(daily_bars_aggregate_to_weeks_and_months, |db| {
    let rows = [
        // Week of Monday 2024-01-01.
        with(
            row("1d", at(2024, 1, 1, 0, 0), [10.0, 12.0, 9.0, 11.0], 100.0),
            Some(10.5),
            Some(5),
        ),
        with(
            row("1d", at(2024, 1, 3, 0, 0), [11.0, 15.0, 10.0, 14.0], 300.0),
            Some(13.0),
            Some(7),
        ),
        with(
            row("1d", at(2024, 1, 5, 0, 0), [14.0, 14.5, 13.0, 13.5], 100.0),
            Some(14.0),
            Some(3),
        ),
        // Week of 2024-01-08: one bar without vwap, one without trades.
        with(
            row("1d", at(2024, 1, 8, 0, 0), [13.0, 13.0, 12.0, 12.5], 200.0),
            None,
            Some(4),
        ),
        with(
            row("1d", at(2024, 1, 14, 0, 0), [12.5, 16.0, 12.0, 15.0], 100.0),
            Some(15.0),
            None,
        ),
        // Thursday 2024-02-01: week of 2024-01-29, month of February.
        with(
            row("1d", at(2024, 2, 1, 0, 0), [15.0, 15.5, 14.5, 15.2], 10.0),
            Some(15.1),
            Some(1),
        ),
    ];
    seed(db, &rows).await;
    let mut app = TestApp::spawn(db).await;

    let weeks = app.list_bars(request("1w", "raw")).await.expect("weeks");
    assert_eq!(weeks.interval, "1w");
    assert_eq!(weeks.bars.len(), 3);
    // vwap = (10.5 × 100 + 13 × 300 + 14 × 100) / 500 = 6350 / 500
    assert_bar(
        &weeks.bars[0],
        at(2024, 1, 1, 0, 0),
        [10.0, 15.0, 9.0, 13.5],
        500.0,
        Some(12.7),
        Some(15),
    );
    assert_bar(
        &weeks.bars[1],
        at(2024, 1, 8, 0, 0),
        [13.0, 16.0, 12.0, 15.0],
        300.0,
        None,
        None,
    );
    assert_bar(
        &weeks.bars[2],
        at(2024, 1, 29, 0, 0),
        [15.0, 15.5, 14.5, 15.2],
        10.0,
        Some(15.1),
        Some(1),
    );
    let (walked, pages) = app.walk_bars(request("1w", "raw"), 2).await;
    assert_eq!((walked, pages), (weeks.bars.clone(), 2));

    let months = app.list_bars(request("1mo", "raw")).await.expect("months");
    assert_eq!(months.bars.len(), 2);
    assert_bar(
        &months.bars[0],
        at(2024, 1, 1, 0, 0),
        [10.0, 16.0, 9.0, 15.0],
        800.0,
        None,
        None,
    );
    assert_bar(
        &months.bars[1],
        at(2024, 2, 1, 0, 0),
        [15.0, 15.5, 14.5, 15.2],
        10.0,
        Some(15.1),
        Some(1),
    );

    // A window starting mid-week begins with the next whole week.
    let from_wednesday = app
        .list_bars(ListBarsRequest {
            start: Some(naive_to_timestamp(at(2024, 1, 3, 0, 0))),
            ..request("1w", "raw")
        })
        .await
        .expect("weeks from a Wednesday");
    assert_eq!(from_wednesday.bars, weeks.bars[1..].to_vec());
    app.served.stop().await;
});

store_test!(minute_bars_aggregate_to_hours, |db| {
    let rows = [
        with(
            row("1m", at(2024, 5, 6, 9, 59), [99.0, 99.5, 98.5, 99.2], 50.0),
            Some(99.1),
            Some(2),
        ),
        with(
            row(
                "1m",
                at(2024, 5, 6, 10, 0),
                [100.0, 101.0, 99.5, 100.5],
                100.0,
            ),
            Some(100.2),
            Some(10),
        ),
        with(
            row(
                "1m",
                at(2024, 5, 6, 10, 1),
                [100.5, 102.0, 100.0, 101.5],
                200.0,
            ),
            Some(101.0),
            Some(20),
        ),
        with(
            row(
                "1m",
                at(2024, 5, 6, 10, 59),
                [101.5, 101.6, 98.0, 99.0],
                100.0,
            ),
            Some(99.5),
            Some(5),
        ),
        with(
            row("1m", at(2024, 5, 6, 11, 30), [99.0, 99.0, 97.0, 98.0], 40.0),
            Some(98.0),
            Some(4),
        ),
    ];
    seed(db, &rows).await;
    let mut app = TestApp::spawn(db).await;

    let hours = app.list_bars(request("1h", "raw")).await.expect("hours");
    assert_eq!(hours.interval, "1h");
    assert_eq!(hours.bars.len(), 3);
    assert_bar(
        &hours.bars[0],
        at(2024, 5, 6, 9, 0),
        [99.0, 99.5, 98.5, 99.2],
        50.0,
        Some(99.1),
        Some(2),
    );
    // vwap = (100.2 × 100 + 101 × 200 + 99.5 × 100) / 400 = 40 170 / 400
    assert_bar(
        &hours.bars[1],
        at(2024, 5, 6, 10, 0),
        [100.0, 102.0, 98.0, 99.0],
        400.0,
        Some(100.425),
        Some(35),
    );
    assert_bar(
        &hours.bars[2],
        at(2024, 5, 6, 11, 0),
        [99.0, 99.0, 97.0, 98.0],
        40.0,
        Some(98.0),
        Some(4),
    );

    // 15m: 09:45, 10:00 (10:00 and 10:01), 10:45, 11:30.
    let quarters = app
        .list_bars(request("15m", "raw"))
        .await
        .expect("quarters");
    let starts: Vec<i64> = quarters
        .bars
        .iter()
        .filter_map(|b| b.ts.map(|t| t.seconds))
        .collect();
    let expected: Vec<i64> = [
        at(2024, 5, 6, 9, 45),
        at(2024, 5, 6, 10, 0),
        at(2024, 5, 6, 10, 45),
        at(2024, 5, 6, 11, 30),
    ]
    .iter()
    .map(|t| t.and_utc().timestamp())
    .collect();
    assert_eq!(starts, expected);
    assert_bar(
        &quarters.bars[1],
        at(2024, 5, 6, 10, 0),
        [100.0, 102.0, 99.5, 101.5],
        300.0,
        Some(302.2 / 3.0),
        Some(30),
    );
    app.served.stop().await;
});

store_test!(aggregated_pages_stop_inside_a_bar_and_resume_whole, |db| {
    // Three full hours of minute bars: a page of one hour reads (1 + 1) × 60 rows, so every
    // read but the last stops inside an hour.
    let start = at(2024, 5, 6, 13, 0);
    let rows: Vec<BarRow> = (0..180)
        .map(|i| {
            let p = 100.0 + f64::from(i) * 0.1;
            let ts = start + TimeDelta::minutes(i64::from(i));
            with(
                row(
                    "1m",
                    ts,
                    [p, p + 0.5, p - 0.5, p + 0.05],
                    10.0 + f64::from(i),
                ),
                Some(p),
                Some(1),
            )
        })
        .collect();
    seed(db, &rows).await;
    let mut app = TestApp::spawn(db).await;

    let whole = app
        .list_bars(request("1h", "raw"))
        .await
        .expect("all hours");
    assert_eq!(whole.bars.len(), 3);
    for (k, bar) in whole.bars.iter().enumerate() {
        let part = &rows[k * 60..(k + 1) * 60];
        let volume: f64 = part.iter().map(|r| r.volume).sum();
        let last = &part[59];
        assert_bar(
            bar,
            part[0].ts,
            [part[0].open, last.high, part[0].low, last.close],
            volume,
            Some(part.iter().map(|r| r.open * r.volume).sum::<f64>() / volume),
            Some(60),
        );
    }
    let (walked, pages) = app.walk_bars(request("1h", "raw"), 1).await;
    assert_eq!(walked, whole.bars);
    assert_eq!(pages, 3);
    app.served.stop().await;
});
