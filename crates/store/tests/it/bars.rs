//! Round trips on `bars`, and its partitions on PostgreSQL (by interval class, then monthly for
//! intraday bars and yearly for daily ones).

use bourse_store::schema::bars;
use bourse_store::{Backend, BarClass, Db, StoreError};
use bourse_test_support::{postgres_db, store_test};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;

use crate::rows::{BarRow, at};

/// One multi-row insert on PostgreSQL; on SQLite the same statement through
/// the synchronous connection, which diesel runs row by row in a transaction.
async fn insert(db: &Db, rows: &[BarRow]) -> Result<usize, StoreError> {
    let rows = rows.to_vec();
    Ok(bourse_store::with_conn!(
        db,
        postgres
            | conn
            | diesel::insert_into(bars::table)
                .values(&rows)
                .execute(conn)
                .await?,
        sqlite
            | conn
            | conn
                .spawn_blocking(move |conn| {
                    diesel::RunQueryDsl::execute(
                        diesel::insert_into(bars::table).values(&rows),
                        conn,
                    )
                })
                .await?,
    ))
}

/// Bars of one series with `from <= ts < to`, oldest first.
async fn series(
    db: &Db,
    symbol: &str,
    interval: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<BarRow>, StoreError> {
    Ok(bourse_store::with_conn!(db, |conn| {
        bars::table
            .filter(bars::symbol.eq(symbol))
            .filter(bars::interval.eq(interval))
            .filter(bars::ts.ge(from))
            .filter(bars::ts.lt(to))
            .order(bars::ts.asc())
            .select(BarRow::as_select())
            .load(conn)
            .await?
    }))
}

store_test!(bar_round_trip, |db| {
    let older = BarRow::sample("AAPL", "1d", at(2024, 1, 2, 0), 185.25);
    let newer = BarRow {
        vwap: None,
        trades: None,
        ..BarRow::sample("AAPL", "1d", at(2024, 1, 3, 0), 186.5)
    };
    let other_interval = BarRow::sample("AAPL", "1h", at(2024, 1, 2, 0), 185.0);
    let out_of_range = BarRow::sample("AAPL", "1d", at(2024, 2, 1, 0), 190.0);
    // Inserted out of order: the query must sort.
    let rows = [newer.clone(), other_interval, older.clone(), out_of_range];
    assert_eq!(insert(db, &rows).await.expect("insert bars"), 4);

    let loaded = series(db, "AAPL", "1d", at(2024, 1, 1, 0), at(2024, 2, 1, 0))
        .await
        .expect("load the daily series");
    assert_eq!(loaded, vec![older, newer]);
});

store_test!(bar_primary_key_and_interval_are_enforced, |db| {
    let bar = BarRow::sample("MSFT", "5m", at(2023, 6, 1, 0), 330.0);
    insert(db, std::slice::from_ref(&bar))
        .await
        .expect("insert a bar");
    let duplicate = insert(db, std::slice::from_ref(&bar))
        .await
        .expect_err("(symbol, interval, ts) is the primary key");
    assert!(
        duplicate.is_unique_violation(),
        "unexpected error: {duplicate}"
    );

    let bad_interval = BarRow {
        interval: "2m".to_owned(),
        ..bar
    };
    insert(db, &[bad_interval])
        .await
        .expect_err("`2m` is not an interval");
});

store_test!(ensure_bar_partitions_per_backend, |db| {
    let created = db
        .ensure_bar_partitions(at(2019, 1, 1, 0), at(2020, 1, 1, 0))
        .await
        .expect("ensure partitions");
    match db.backend() {
        Backend::Sqlite => assert_eq!(created, 0, "SQLite has no partitions"),
        Backend::Postgres => assert_eq!(
            created,
            2 + 13,
            "daily: 2019 and 2020; intraday: the 12 months of 2019 and January 2020"
        ),
    }
});

/// One row of "which partition holds how many bars".
#[derive(Debug, PartialEq, QueryableByName)]
struct PartitionCount {
    #[diesel(sql_type = Text)]
    partition: String,
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

async fn rows_per_partition(db: &Db) -> Vec<PartitionCount> {
    let Db::Postgres(pool) = db else {
        panic!("partitions exist on PostgreSQL only");
    };
    let mut conn = pool.get().await.expect("a pooled connection");
    diesel::sql_query(
        "SELECT tableoid::regclass::text AS partition, count(*) AS rows \
         FROM bars GROUP BY 1 ORDER BY 1",
    )
    .load(&mut *conn)
    .await
    .expect("count rows per partition")
}

async fn partitions_of_bars(db: &Db) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Child {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let Db::Postgres(pool) = db else {
        panic!("partitions exist on PostgreSQL only");
    };
    let mut conn = pool.get().await.expect("a pooled connection");
    let children: Vec<Child> = diesel::sql_query(
        "SELECT inhrelid::regclass::text AS name FROM pg_inherits \
         WHERE inhparent = 'bars'::regclass ORDER BY 1",
    )
    .load(&mut *conn)
    .await
    .expect("list the partitions of bars");
    children.into_iter().map(|child| child.name).collect()
}

fn count(partition: &str, rows: i64) -> PartitionCount {
    PartitionCount {
        partition: partition.to_owned(),
        rows,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_bars_land_in_class_partitions() {
    let Some(test_db) = postgres_db().await else {
        return;
    };
    let db = &test_db.db;

    // Imported before any partition exists: they wait in their class's default partition.
    let early = [
        BarRow::sample("IBM", "1d", at(2019, 6, 3, 0), 135.0),
        BarRow::sample("IBM", "1d", at(2021, 6, 1, 0), 143.0),
        BarRow::sample("IBM", "1m", at(2021, 6, 1, 14), 143.5),
    ];
    insert(db, &early).await.expect("insert early bars");
    assert_eq!(
        rows_per_partition(db).await,
        vec![
            count("bars_daily_default", 2),
            count("bars_intraday_default", 1)
        ]
    );

    let created = db
        .ensure_bar_partitions_for(BarClass::Daily, at(2019, 1, 1, 0), at(2022, 12, 31, 0))
        .await
        .expect("create daily partitions for 2019..=2022");
    assert_eq!(created, 4);
    let created = db
        .ensure_bar_partitions_for(BarClass::Intraday, at(2021, 5, 20, 0), at(2022, 12, 31, 0))
        .await
        .expect("create intraday partitions for 2021-05..=2022-12");
    assert_eq!(created, 20);

    let later = [
        BarRow::sample("IBM", "1d", at(2020, 6, 1, 0), 120.0),
        // The last microsecond of 2022 still belongs to December 2022.
        BarRow {
            ts: NaiveDateTime::parse_from_str("2022-12-31 23:59:59.999999", "%F %T%.f")
                .expect("timestamp"),
            ..BarRow::sample("IBM", "1h", at(2022, 1, 1, 0), 141.0)
        },
        // No partition for 2025: the default partitions take them.
        BarRow::sample("IBM", "1d", at(2025, 1, 2, 0), 230.0),
        BarRow::sample("IBM", "5m", at(2025, 1, 2, 15), 231.0),
    ];
    insert(db, &later).await.expect("insert later bars");

    assert_eq!(
        rows_per_partition(db).await,
        vec![
            count("bars_daily_2019", 1),
            count("bars_daily_2020", 1),
            count("bars_daily_2021", 1),
            count("bars_daily_default", 1),
            count("bars_intraday_2021_06", 1),
            count("bars_intraday_2022_12", 1),
            count("bars_intraday_default", 1),
        ],
        "early rows moved out of the default partitions, later rows routed by class and time"
    );
    assert_eq!(
        partitions_of_bars(db).await,
        ["bars_daily", "bars_intraday"]
    );

    let again = db
        .ensure_bar_partitions_for(BarClass::Intraday, at(2021, 6, 1, 0), at(2022, 1, 1, 0))
        .await
        .expect("ensure existing partitions");
    assert_eq!(again, 0, "existing partitions are left alone");

    // Reads through the parent table see every partition.
    let all = series(db, "IBM", "1d", at(2000, 1, 1, 0), at(2030, 1, 1, 0))
        .await
        .expect("load across partitions");
    assert_eq!(all.len(), 4);

    let reversed = db
        .ensure_bar_partitions(at(2022, 1, 1, 0), at(2021, 1, 1, 0))
        .await
        .expect_err("to before from is rejected");
    assert!(
        reversed.to_string().contains("is before"),
        "unexpected error: {reversed}"
    );
}
