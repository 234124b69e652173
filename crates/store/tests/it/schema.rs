//! `schema.rs` matches the migrations on both backends: a row of every table
//! comes back exactly as written, and the constraints hold.

use bourse_store::schema::{
    corporate_actions, instruments, news, portfolios, quotes, risk_reports,
};
use bourse_store::{Db, StoreError};
use bourse_test_support::store_test;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::rows::{
    CorporateActionRow, InstrumentRow, NewsRow, PortfolioRow, QuoteRow, RiskReportRow, at,
};

fn apple() -> InstrumentRow {
    InstrumentRow {
        symbol: "AAPL".to_owned(),
        name: "Apple Inc.".to_owned(),
        exchange: "XNAS".to_owned(),
        currency: "USD".to_owned(),
        asset_class: "equity".to_owned(),
        sector: None,
        active: false,
        updated_at: at(2024, 5, 1, 1),
    }
}

fn quote(symbol: &str) -> QuoteRow {
    QuoteRow {
        symbol: symbol.to_owned(),
        last: 189.87,
        bid: Some(189.86),
        ask: Some(189.88),
        bid_size: Some(300.0),
        ask_size: None,
        day_open: Some(188.0),
        day_high: Some(190.5),
        day_low: Some(187.25),
        prev_close: Some(187.0),
        volume: 51_234_567.0,
        ts: at(2024, 5, 1, 654_321),
    }
}

/// One row of every table but `api_keys` and `bars` (tested on their own).
type EveryTable = (
    InstrumentRow,
    QuoteRow,
    CorporateActionRow,
    PortfolioRow,
    RiskReportRow,
    NewsRow,
);

/// Writes one row of each table and reads each back.
async fn write_and_read_every_table(db: &Db, rows: &EveryTable) -> Result<EveryTable, StoreError> {
    let (instrument, quote, action, portfolio, report, item) = rows;
    Ok(bourse_store::with_conn!(db, |conn| {
        diesel::insert_into(instruments::table)
            .values(instrument)
            .execute(conn)
            .await?;
        diesel::insert_into(quotes::table)
            .values(quote)
            .execute(conn)
            .await?;
        diesel::insert_into(corporate_actions::table)
            .values(action)
            .execute(conn)
            .await?;
        diesel::insert_into(portfolios::table)
            .values(portfolio)
            .execute(conn)
            .await?;
        diesel::insert_into(risk_reports::table)
            .values(report)
            .execute(conn)
            .await?;
        diesel::insert_into(news::table)
            .values(item)
            .execute(conn)
            .await?;
        (
            instruments::table
                .select(InstrumentRow::as_select())
                .first(conn)
                .await?,
            quotes::table
                .select(QuoteRow::as_select())
                .first(conn)
                .await?,
            corporate_actions::table
                .select(CorporateActionRow::as_select())
                .first(conn)
                .await?,
            portfolios::table
                .select(PortfolioRow::as_select())
                .first(conn)
                .await?,
            risk_reports::table
                .select(RiskReportRow::as_select())
                .first(conn)
                .await?,
            news::table.select(NewsRow::as_select()).first(conn).await?,
        )
    }))
}

store_test!(every_table_round_trips, |db| {
    let rows = (
        apple(),
        quote("AAPL"),
        CorporateActionRow {
            id: uuid::Uuid::new_v4().to_string(),
            symbol: "AAPL".to_owned(),
            ex_date: at(2020, 8, 31, 0),
            kind: "split".to_owned(),
            ratio: Some(4.0),
            amount: None,
        },
        PortfolioRow {
            id: uuid::Uuid::new_v4().to_string(),
            account: "acme".to_owned(),
            name: "Growth".to_owned(),
            base_currency: "USD".to_owned(),
            cash: "1000000.0000000001".to_owned(),
            allow_short: true,
            version: i64::MAX,
            created_at: at(2024, 1, 1, 1),
            updated_at: at(2024, 1, 2, 2),
        },
        RiskReportRow {
            id: uuid::Uuid::new_v4().to_string(),
            portfolio_id: None,
            account: "acme".to_owned(),
            method: "historical".to_owned(),
            params: r#"{"confidence":0.99}"#.to_owned(),
            result: r#"{"var":12345.67}"#.to_owned(),
            computed_at: at(2024, 1, 3, 3),
        },
        NewsRow {
            id: uuid::Uuid::new_v4().to_string(),
            source: "wire".to_owned(),
            url: Some("https://example.com/a".to_owned()),
            headline: "Apple beats — again ✓".to_owned(),
            body: None,
            symbols: "AAPL,MSFT".to_owned(),
            published_at: at(2024, 1, 4, 4),
            score: -0.375,
            label: "negative".to_owned(),
            ingested_at: at(2024, 1, 4, 5),
        },
    );
    let read = write_and_read_every_table(db, &rows)
        .await
        .expect("write and read every table");
    assert_eq!(read, rows);
});

async fn insert_quote(db: &Db, row: &QuoteRow) -> Result<usize, StoreError> {
    Ok(bourse_store::with_conn!(db, |conn| {
        diesel::insert_into(quotes::table)
            .values(row)
            .execute(conn)
            .await?
    }))
}

store_test!(quotes_need_a_known_instrument, |db| {
    // On SQLite this holds only because every connection enables foreign keys.
    let error = insert_quote(db, &quote("NOPE"))
        .await
        .expect_err("no instrument NOPE");
    assert!(
        matches!(
            error,
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _
            ))
        ),
        "unexpected error: {error}"
    );
});

async fn insert_actions(db: &Db, rows: &[CorporateActionRow]) -> Result<usize, StoreError> {
    let mut inserted = 0;
    for row in rows {
        inserted += bourse_store::with_conn!(db, |conn| {
            diesel::insert_into(corporate_actions::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?
        });
    }
    Ok(inserted)
}

store_test!(corporate_actions_are_checked_and_idempotent, |db| {
    let dividend = CorporateActionRow {
        id: uuid::Uuid::new_v4().to_string(),
        symbol: "MSFT".to_owned(),
        ex_date: at(2024, 2, 14, 0),
        kind: "dividend".to_owned(),
        ratio: None,
        amount: Some(0.75),
    };
    assert_eq!(
        insert_actions(db, std::slice::from_ref(&dividend))
            .await
            .expect("insert"),
        1
    );
    let reimported = CorporateActionRow {
        id: uuid::Uuid::new_v4().to_string(),
        ..dividend.clone()
    };
    assert_eq!(
        insert_actions(db, &[reimported]).await.expect("re-import"),
        0,
        "the same (symbol, ex_date, kind) is skipped"
    );

    let split_without_ratio = CorporateActionRow {
        id: uuid::Uuid::new_v4().to_string(),
        kind: "split".to_owned(),
        ex_date: at(2024, 3, 1, 0),
        ratio: None,
        amount: Some(2.0),
        ..dividend
    };
    insert_actions(db, &[split_without_ratio])
        .await
        .expect_err("a split needs a ratio and no amount");
});
