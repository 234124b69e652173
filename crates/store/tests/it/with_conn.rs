//! `with_conn!` in the shapes services use it: a service error type that wraps
//! `StoreError`, a shared `Arc<Db>`, and concurrent checkouts.

use std::sync::Arc;

use bourse_store::schema::instruments;
use bourse_store::{Db, StoreError};
use bourse_test_support::store_test;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::rows::{InstrumentRow, at};

/// A service's own error type: `with_conn!` only needs `From<StoreError>`.
#[derive(Debug)]
enum ServiceError {
    Store(StoreError),
    UnknownSymbol(String),
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

struct State {
    db: Arc<Db>,
}

impl State {
    async fn add(&self, row: &InstrumentRow) -> Result<(), ServiceError> {
        bourse_store::with_conn!(self.db, |conn| {
            diesel::insert_into(instruments::table)
                .values(row)
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn name_of(&self, symbol: &str) -> Result<String, ServiceError> {
        let name = bourse_store::with_conn!(self.db, |conn| {
            instruments::table
                .find(symbol)
                .select(instruments::name)
                .first::<String>(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        name.ok_or_else(|| ServiceError::UnknownSymbol(symbol.to_owned()))
    }
}

fn instrument(symbol: &str, name: &str) -> InstrumentRow {
    InstrumentRow {
        symbol: symbol.to_owned(),
        name: name.to_owned(),
        exchange: "XNAS".to_owned(),
        currency: "USD".to_owned(),
        asset_class: "equity".to_owned(),
        sector: Some("Technology".to_owned()),
        active: true,
        updated_at: at(2024, 5, 1, 0),
    }
}

store_test!(works_with_a_service_error_and_arc_db, |db| {
    let state = State {
        db: Arc::new(db.clone()),
    };
    state
        .add(&instrument("AAPL", "Apple Inc."))
        .await
        .expect("add an instrument");
    assert_eq!(
        state.name_of("AAPL").await.expect("look up AAPL"),
        "Apple Inc."
    );
    assert!(matches!(
        state.name_of("ZZZZ").await,
        Err(ServiceError::UnknownSymbol(symbol)) if symbol == "ZZZZ"
    ));
    let duplicate = state.add(&instrument("AAPL", "Apple again")).await;
    assert!(
        matches!(&duplicate, Err(ServiceError::Store(error)) if error.is_unique_violation()),
        "{duplicate:?}"
    );
});

store_test!(concurrent_checkouts_share_the_database, |db| {
    // More tasks than the test pool's 4 connections: they queue, then all see
    // the same database (a pooled `:memory:` SQLite would not).
    let mut tasks = Vec::new();
    for n in 0..12 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let row = instrument(&format!("SYM{n:02}"), &format!("Company {n}"));
            bourse_store::with_conn!(db, |conn| {
                diesel::insert_into(instruments::table)
                    .values(&row)
                    .execute(conn)
                    .await?
            });
            Ok::<_, StoreError>(())
        }));
    }
    for task in tasks {
        task.await
            .expect("task finished")
            .expect("insert an instrument");
    }
    let total: Result<i64, StoreError> = async {
        Ok(bourse_store::with_conn!(db, |conn| {
            instruments::table.count().get_result::<i64>(conn).await?
        }))
    }
    .await;
    assert_eq!(total.expect("count instruments"), 12);
});
