//! The PostgreSQL partitions bars land in: monthly for intraday intervals, yearly for daily
//! ones, created ahead of the data by the store's bar upsert.

use bourse_market_data::store::BarRow;
use bourse_store::Db;
use bourse_test_support::postgres_db;
use chrono::TimeDelta;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;

use crate::TestApp;
use crate::bars::{at, request, row, seed, wire};

/// How many bars each partition of `bars` holds, by partition name.
#[derive(Debug, PartialEq, QueryableByName)]
struct PartitionCount {
    #[diesel(sql_type = Text)]
    partition: String,
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_bars_land_in_monthly_and_yearly_partitions() {
    let Some(test_db) = postgres_db().await else {
        return;
    };
    let db = &test_db.db;
    // 1m bars: every day at 14:30 from 2023-11-01 to 2024-04-30 (six months).
    let minutes: Vec<BarRow> = (0..182)
        .map(|i| {
            row(
                "1m",
                at(2023, 11, 1, 14, 30) + TimeDelta::days(i),
                [1.0, 1.0, 1.0, 1.0],
                1.0,
            )
        })
        .collect();
    // 1d bars: the 10th of every month from 2019 to 2024 (six years).
    let days: Vec<BarRow> = (0..72)
        .map(|i| {
            row(
                "1d",
                at(2019 + i / 12, (i % 12) as u32 + 1, 10, 0, 0),
                [1.0, 1.0, 1.0, 1.0],
                1.0,
            )
        })
        .collect();
    seed(db, &minutes).await;
    seed(db, &days).await;

    let Db::Postgres(pool) = db else {
        panic!("a PostgreSQL test database");
    };
    let mut conn = pool.get().await.expect("a pooled connection");
    let counts: Vec<PartitionCount> = diesel::sql_query(
        "SELECT tableoid::regclass::text AS partition, count(*) AS rows FROM bars GROUP BY 1 ORDER BY 1",
    )
    .load(&mut *conn)
    .await
    .expect("rows per partition");
    let expected: Vec<PartitionCount> = (2019..=2024)
        .map(|y| (format!("bars_daily_{y}"), 12))
        .chain(
            [
                ("2023_11", 30),
                ("2023_12", 31),
                ("2024_01", 31),
                ("2024_02", 29),
                ("2024_03", 31),
                ("2024_04", 30),
            ]
            .map(|(m, n)| (format!("bars_intraday_{m}"), n)),
        )
        .map(|(partition, rows)| PartitionCount { partition, rows })
        .collect();
    assert_eq!(counts, expected, "no bar waits in a default partition");

    #[derive(QueryableByName)]
    struct Child {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let children = |parent: &'static str| {
        diesel::sql_query(format!(
            "SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = '{parent}'::regclass ORDER BY 1"
        ))
    };
    let intraday: Vec<Child> = children("bars_intraday")
        .load(&mut *conn)
        .await
        .expect("intraday partitions");
    let intraday: Vec<String> = intraday.into_iter().map(|c| c.name).collect();
    assert_eq!(
        intraday.as_slice().first().map(String::as_str),
        Some("bars_intraday_2023_11")
    );
    assert!(
        intraday.contains(&"bars_intraday_2024_05".to_owned()),
        "a month ahead of the data: {intraday:?}"
    );
    assert_eq!(
        intraday.last().map(String::as_str),
        Some("bars_intraday_default")
    );
    let daily: Vec<Child> = children("bars_daily")
        .load(&mut *conn)
        .await
        .expect("daily partitions");
    let daily: Vec<String> = daily.into_iter().map(|c| c.name).collect();
    assert!(
        daily.contains(&"bars_daily_2025".to_owned()),
        "a year ahead of the data: {daily:?}"
    );

    // Every partition's primary key covers the columns ListBars reads (index-only scans).
    #[derive(QueryableByName)]
    struct IndexDef {
        #[diesel(sql_type = Text)]
        indexdef: String,
    }
    let keys: Vec<IndexDef> = diesel::sql_query(
        "SELECT indexdef FROM pg_indexes WHERE tablename IN ('bars_intraday_2024_05', 'bars_daily_2019')",
    )
    .load(&mut *conn)
    .await
    .expect("partition indexes");
    assert_eq!(keys.len(), 2);
    for key in keys {
        assert!(
            key.indexdef.ends_with(
                "(symbol, \"interval\", ts) INCLUDE (open, high, low, close, volume, vwap, trades)"
            ),
            "{}",
            key.indexdef
        );
    }
    drop(conn);

    // ListBars reads across partitions, in order.
    let mut app = TestApp::spawn(db).await;
    let (walked, _) = app.walk_bars(request("1m", "raw"), 50).await;
    assert_eq!(walked, minutes.iter().map(wire).collect::<Vec<_>>());
    let months = app
        .list_bars(request("1mo", "raw"))
        .await
        .expect("months from days");
    assert_eq!(months.bars.len(), 72);
    app.served.stop().await;
}
